-- Alerting: channels, rules, the history of transitions with their deliveries, silences.
-- Definitions and configurations are JSON text the store does not interpret (the alerting
-- crate and the API check them); values are decimal text, so no float column differs
-- between the two databases.
CREATE TABLE alert_channels (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    config      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX alert_channels_project ON alert_channels(project_id);

CREATE TABLE alert_rules (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    definition  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX alert_rules_project ON alert_rules(project_id);

-- One row, bumped with every rule change: processors and evaluators poll it.
CREATE TABLE alert_revision (
    id        BIGINT PRIMARY KEY,
    revision  BIGINT NOT NULL
);
INSERT INTO alert_revision (id, revision) VALUES (1, 0);

-- `id` is the transition id the evaluator derives from (rule, group, window, state): a
-- replayed transition finds its row and is not recorded (or notified) twice.
CREATE TABLE alert_transitions (
    id            TEXT PRIMARY KEY,
    project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    rule_id       TEXT NOT NULL,
    rule_name     TEXT NOT NULL,
    group_key     TEXT NOT NULL,
    from_state    TEXT NOT NULL,
    to_state      TEXT NOT NULL,
    value         TEXT,
    threshold     TEXT NOT NULL,
    severity      TEXT NOT NULL,
    window_start  BIGINT NOT NULL,
    window_end    BIGINT NOT NULL,
    event_time    BIGINT NOT NULL,
    recorded_at   BIGINT NOT NULL,
    samples       TEXT NOT NULL,
    labels        TEXT NOT NULL,
    message       TEXT NOT NULL,
    acked_by      TEXT,
    acked_at      BIGINT
);
CREATE INDEX alert_transitions_project ON alert_transitions(project_id, recorded_at);

-- One per transition and channel; its id is what the receiver sees as X-NexusLog-Delivery,
-- written before the first attempt so a retry after a crash reuses it.
CREATE TABLE alert_deliveries (
    id             TEXT PRIMARY KEY,
    transition_id  TEXT NOT NULL REFERENCES alert_transitions(id) ON DELETE CASCADE,
    channel_id     TEXT NOT NULL,
    status         TEXT NOT NULL,
    attempts       BIGINT NOT NULL,
    last_error     TEXT,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX alert_deliveries_transition ON alert_deliveries(transition_id);

CREATE TABLE alert_delivery_attempts (
    delivery_id  TEXT NOT NULL REFERENCES alert_deliveries(id) ON DELETE CASCADE,
    attempt      BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    ok           BOOLEAN NOT NULL,
    detail       TEXT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

CREATE TABLE alert_silences (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    matchers    TEXT NOT NULL,
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT NOT NULL,
    comment     TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX alert_silences_project ON alert_silences(project_id, ends_at);
