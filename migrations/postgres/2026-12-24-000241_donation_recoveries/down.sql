DROP TABLE donation_recoveries;
