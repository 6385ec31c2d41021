-- Identity and access management: people, the keys that sign their tokens, refresh tokens.
-- Tools keep using `credentials` (0001); a user is a person with one role.

CREATE TABLE iam_users (
    id               uuid        NOT NULL PRIMARY KEY,
    email            text        NOT NULL,
    password_hash    text        NOT NULL,  -- argon2id, PHC string
    role             text        NOT NULL CHECK (role IN ('admin', 'author', 'learner', 'analyst')),
    created          timestamptz NOT NULL DEFAULT now(),
    disabled         timestamptz,
    sessions_revoked timestamptz            -- access tokens issued before this are refused
);
CREATE UNIQUE INDEX iam_users_email ON iam_users (lower(email));

-- JWT signing keys (ES256). The newest unretired key signs; retired keys still verify until
-- the next rotation deletes them. The private key is PEM encrypted with the server key.
CREATE TABLE iam_signing_keys (
    kid         text        NOT NULL PRIMARY KEY,
    private_pem bytea       NOT NULL,
    created     timestamptz NOT NULL DEFAULT now(),
    retired     timestamptz
);

-- Refresh tokens, stored only as a keyed digest. A refresh rotates the token within its
-- family; presenting a used token again revokes the whole family (token theft).
CREATE TABLE iam_refresh_tokens (
    digest   bytea       NOT NULL PRIMARY KEY,
    family   uuid        NOT NULL,
    user_id  uuid        NOT NULL REFERENCES iam_users (id) ON DELETE CASCADE,
    scope    text        NOT NULL,
    created  timestamptz NOT NULL DEFAULT now(),
    expires  timestamptz NOT NULL,
    used     timestamptz,
    revoked  timestamptz
);
CREATE INDEX iam_refresh_tokens_user ON iam_refresh_tokens (user_id);
CREATE INDEX iam_refresh_tokens_family ON iam_refresh_tokens (family);
