DROP TABLE staff_login_failures;
