-- Notifications (lms/notifications): domain events turned into messages for people, listed
-- in the app, pushed over WebSocket, and sent by email and webhook in digests.

-- What each person wants. No row: the defaults.
CREATE TABLE lms_notification_preferences (
    user_id        text        NOT NULL PRIMARY KEY,
    websocket      boolean     NOT NULL DEFAULT true,
    email          boolean     NOT NULL DEFAULT false,
    email_address  text,                             -- null: the account's address
    webhook_url    text,
    webhook_secret text,                             -- HMAC-SHA256 key of the signature
    digest_seconds integer     NOT NULL DEFAULT 30,  -- notifications within this become one message
    muted          text[]      NOT NULL DEFAULT '{}', -- event types not wanted at all
    updated        timestamptz NOT NULL DEFAULT now()
);

-- One per event and person (the bus delivers at least once: the key dedupes).
CREATE TABLE lms_notifications (
    id         bigserial   NOT NULL PRIMARY KEY,
    event_id   uuid        NOT NULL,
    user_id    text        NOT NULL,
    type       text        NOT NULL,
    title      text        NOT NULL,
    data       jsonb       NOT NULL,  -- the event
    created    timestamptz NOT NULL DEFAULT now(),
    dispatched timestamptz,           -- gathered into an email/webhook message
    UNIQUE (event_id, user_id)
);
CREATE INDEX lms_notifications_user ON lms_notifications (user_id, id DESC);
CREATE INDEX lms_notifications_pending ON lms_notifications (user_id, created) WHERE dispatched IS NULL;

-- Who is enrolled where, as LearnerEnrolled events told (to tell them of a new version).
CREATE TABLE lms_notification_enrolments (
    course_id text NOT NULL,
    user_id   text NOT NULL,
    PRIMARY KEY (course_id, user_id)
);

-- Messages to send by email or webhook, retried with exponential back-off; after the last
-- attempt a message is dead (`dead` set): the dead letters an admin lists and may retry.
CREATE TABLE lms_notification_deliveries (
    id           bigserial   NOT NULL PRIMARY KEY,
    channel      text        NOT NULL CHECK (channel IN ('email', 'webhook')),
    user_id      text        NOT NULL,
    target       text        NOT NULL,  -- the address or the URL
    body         bytea       NOT NULL,  -- the message (JSON)
    attempts     integer     NOT NULL DEFAULT 0,
    next_attempt timestamptz NOT NULL DEFAULT now(),
    last_error   text,
    created      timestamptz NOT NULL DEFAULT now(),
    delivered    timestamptz,
    dead         timestamptz
);
CREATE INDEX lms_notification_deliveries_due ON lms_notification_deliveries (next_attempt)
    WHERE delivered IS NULL AND dead IS NULL;
CREATE INDEX lms_notification_deliveries_dead ON lms_notification_deliveries (dead)
    WHERE dead IS NOT NULL;
