DROP TABLE donation_statements;
