DROP TABLE staff_pending_signins;
DROP TABLE staff_recovery_codes;
DROP TABLE staff_totp;
