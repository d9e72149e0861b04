DROP TABLE people_erasure_requests;
