-- Open positions: postings, their hiring contacts and questions, and the applications to them.

CREATE TABLE job_postings (
    id TEXT PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    description_markdown TEXT NOT NULL,
    -- Rendered from the Markdown and sanitised when the posting is saved.
    description_html TEXT NOT NULL,
    location TEXT NOT NULL,
    -- ISO 3166-1 alpha-2, for search engines.
    country TEXT,
    remote TEXT NOT NULL CHECK (remote IN ('remote', 'hybrid', 'on_site')),
    employment_type TEXT NOT NULL,
    salary_currency TEXT,
    salary_min_minor BIGINT,
    salary_max_minor BIGINT,
    salary_period TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'open', 'closed')),
    opens_at TIMESTAMP,
    closes_at TIMESTAMP,
    -- First time the posting was opened; closed_at when it closed (retention counts from it).
    published_at TIMESTAMP,
    closed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX job_postings_status ON job_postings (status, closes_at);

-- Staff who are notified of applications and may see them (by email until staff accounts exist).
CREATE TABLE job_posting_contacts (
    posting_id TEXT NOT NULL REFERENCES job_postings (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    PRIMARY KEY (posting_id, email)
);
CREATE INDEX job_posting_contacts_email ON job_posting_contacts (email);

-- Custom questions; a removed question is kept inactive so earlier answers keep their label.
CREATE TABLE job_questions (
    id TEXT PRIMARY KEY NOT NULL,
    posting_id TEXT NOT NULL REFERENCES job_postings (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('short_text', 'long_text', 'yes_no')),
    label TEXT NOT NULL,
    required BOOLEAN NOT NULL,
    active BOOLEAN NOT NULL
);
CREATE INDEX job_questions_posting ON job_questions (posting_id, position);

CREATE TABLE job_applications (
    id TEXT PRIMARY KEY NOT NULL,
    posting_id TEXT NOT NULL REFERENCES job_postings (id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    -- Lower-cased address; "erased:<id>" once anonymised.
    email_normalized TEXT NOT NULL,
    phone TEXT,
    cover_letter TEXT,
    links TEXT,
    stage TEXT NOT NULL CHECK (stage IN ('new', 'screening', 'interview', 'offer', 'hired', 'rejected', 'withdrawn')),
    -- The CV's random file name under uploads.dir/cvs, never the applicant's own.
    cv_stored_name TEXT,
    cv_filename TEXT,
    cv_content_type TEXT,
    cv_size BIGINT,
    cv_sha256 TEXT,
    consent_at TIMESTAMP NOT NULL,
    privacy_notice_version TEXT NOT NULL,
    keep_on_file BOOLEAN NOT NULL,
    keep_on_file_at TIMESTAMP,
    ip_hash TEXT,
    -- Average rating times 100 (0 when unrated) and the number of ratings, kept for sorting.
    rating_score INTEGER NOT NULL DEFAULT 0,
    rating_count INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    anonymised_at TIMESTAMP
);
CREATE UNIQUE INDEX job_applications_posting_email ON job_applications (posting_id, email_normalized);
CREATE INDEX job_applications_by_date ON job_applications (posting_id, created_at, id);
CREATE INDEX job_applications_by_rating ON job_applications (posting_id, rating_score, created_at, id);
CREATE INDEX job_applications_email ON job_applications (email_normalized);

CREATE TABLE job_application_answers (
    application_id TEXT NOT NULL REFERENCES job_applications (id) ON DELETE CASCADE,
    question_id TEXT NOT NULL REFERENCES job_questions (id),
    value TEXT NOT NULL,
    PRIMARY KEY (application_id, question_id)
);

CREATE TABLE job_application_notes (
    id TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL REFERENCES job_applications (id) ON DELETE CASCADE,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX job_application_notes_application ON job_application_notes (application_id, created_at);

-- One rating per reviewer (by staff email until staff accounts exist).
CREATE TABLE job_application_ratings (
    application_id TEXT NOT NULL REFERENCES job_applications (id) ON DELETE CASCADE,
    reviewer TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (application_id, reviewer)
);
