-- Where a session started, for its owner's account page ("Chrome on Linux", the
-- address): what the sign-in's request said, nothing more precise.
ALTER TABLE sessions ADD COLUMN browser TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';
