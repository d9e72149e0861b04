DROP TABLE comment_replies;
DROP TABLE comment_notes;
DROP TABLE comments;
