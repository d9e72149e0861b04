DROP TABLE staff_known_browsers;
DROP TABLE staff_password_resets;
