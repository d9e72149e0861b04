ALTER TABLE staff_sessions DROP COLUMN second_factor_at;
DROP TABLE staff_webauthn_ceremonies;
DROP TABLE staff_passkeys;
