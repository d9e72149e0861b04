-- Newsletter languages: an issue's language (`lang`, a tag of site.languages; NULL: written
-- for everyone) and `translation_of`, the issue this one translates. A translation is never
-- sent on its own: a send of the issue it translates gives each subscriber whose stored
-- language is the translation's the translated subject and body. A list's language is the
-- language its issues are written in (shown to staff; NULL: any). No personal data.
ALTER TABLE newsletter_issues ADD COLUMN lang TEXT;
ALTER TABLE newsletter_issues ADD COLUMN translation_of TEXT;
ALTER TABLE newsletter_lists ADD COLUMN lang TEXT;
CREATE UNIQUE INDEX newsletter_issues_translation_lang
    ON newsletter_issues (translation_of, lang);
