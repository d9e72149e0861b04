DROP TABLE feedback_voter_keys;
DROP TABLE feedback_notes;
DROP TABLE feedback_votes;
