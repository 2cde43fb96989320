-- lottery module (docs/rewards.md, "Lottery"): the prize table of a lottery reward, the seeds whose
-- SHA-256 is published before the draws they cover, the members' client seeds, and the draws.

-- A prize of a lottery reward (reward.type = 'lottery'). weight: its chance is weight ÷ the total
-- weight of the prizes in stock at the draw. stock null: unlimited; a prize whose stock_left is 0
-- is left out of the draw (the weights used are recorded with each draw). points: points credited
-- to the winner (null: a prize handed over by the operator, or a "thank you" entry with no value).
-- An archived prize is no longer drawn; the draws that gave it keep it.
CREATE TABLE lottery_prize (
  id           text COLLATE "C" PRIMARY KEY,
  reward_id    text COLLATE "C" NOT NULL REFERENCES reward (id),
  program_id   text COLLATE "C" NOT NULL,
  code         text COLLATE "C" NOT NULL,
  -- {"zh-CN": "…", "en": "…"}
  name         jsonb NOT NULL,
  weight       integer NOT NULL CHECK (weight BETWEEN 1 AND 1000000),
  stock        bigint,
  stock_left   bigint,
  points       bigint CHECK (points BETWEEN 1 AND 1000000000000),
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL,
  archived_at  timestamptz,
  CONSTRAINT lottery_prize_stock_check CHECK ((stock IS NULL) = (stock_left IS NULL) AND stock_left >= 0 AND stock >= 0),
  UNIQUE (reward_id, code)
);
CREATE INDEX lottery_prize_reward_idx ON lottery_prize (reward_id, created_at, id);

-- A server seed of a lottery reward: 64 hex characters, secret while active. seed_hash =
-- SHA-256(seed) in hex is published from created_at, before any draw under the seed; rotating
-- reveals the seed (status revealed, revealed_at) and publishes the next one's hash. At most one
-- active seed per reward.
CREATE TABLE lottery_seed (
  id           text COLLATE "C" PRIMARY KEY,
  reward_id    text COLLATE "C" NOT NULL REFERENCES reward (id),
  program_id   text COLLATE "C" NOT NULL,
  seed         text NOT NULL CHECK (seed ~ '^[0-9a-f]{64}$'),
  seed_hash    text NOT NULL CHECK (seed_hash ~ '^[0-9a-f]{64}$'),
  status       text NOT NULL CHECK (status IN ('active', 'revealed')),
  created_at   timestamptz NOT NULL,
  revealed_at  timestamptz,
  CHECK ((status = 'revealed') = (revealed_at IS NOT NULL))
);
CREATE UNIQUE INDEX lottery_seed_active_idx ON lottery_seed (reward_id) WHERE status = 'active';
CREATE INDEX lottery_seed_reward_idx ON lottery_seed (reward_id, created_at DESC, id DESC);

-- A member's client seed (member-visible, settable; a random one is set at the first draw).
CREATE TABLE lottery_client_seed (
  member_id    text COLLATE "C" PRIMARY KEY REFERENCES member (id),
  client_seed  text NOT NULL CHECK (length(client_seed) BETWEEN 1 AND 64),
  updated_at   timestamptz NOT NULL
);

-- One draw: the redemption that paid for it, the seed, client seed and nonce (the member's n-th
-- draw under that seed, from 0), the weights used ([{prize_id, code, weight}], the prizes in
-- stock, in the prize table's order), the outcome and the first HMAC (hex).
CREATE TABLE lottery_draw (
  id              text COLLATE "C" PRIMARY KEY,
  program_id      text COLLATE "C" NOT NULL,
  reward_id       text COLLATE "C" NOT NULL REFERENCES reward (id),
  redemption_id   text COLLATE "C" NOT NULL UNIQUE REFERENCES redemption (id),
  member_id       text COLLATE "C" NOT NULL REFERENCES member (id),
  seed_id         text COLLATE "C" NOT NULL REFERENCES lottery_seed (id),
  client_seed     text NOT NULL,
  nonce           integer NOT NULL CHECK (nonce >= 0),
  weights         jsonb NOT NULL,
  prize_id        text COLLATE "C" NOT NULL REFERENCES lottery_prize (id),
  prize_code      text NOT NULL,
  points_awarded  bigint,
  hmac            text NOT NULL CHECK (hmac ~ '^[0-9a-f]{64}$'),
  at              timestamptz NOT NULL,
  UNIQUE (seed_id, member_id, nonce)
);
CREATE INDEX lottery_draw_member_idx ON lottery_draw (member_id, at DESC, id DESC);
CREATE INDEX lottery_draw_reward_idx ON lottery_draw (reward_id, at DESC, id DESC);
CREATE INDEX lottery_draw_seed_idx ON lottery_draw (seed_id);
