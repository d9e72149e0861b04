DROP TABLE job_application_ratings;
DROP TABLE job_application_notes;
DROP TABLE job_application_answers;
DROP TABLE job_applications;
DROP TABLE job_questions;
DROP TABLE job_posting_contacts;
DROP TABLE job_postings;
