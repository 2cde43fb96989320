-- lottery module (docs/rewards.md, "Lottery"): a prize may issue another reward of the program (a
-- coupon from its pool, goods to ship, a service or an experience). The winner gets a redemption
-- of that reward at no points, written with the draw: one of the member's redemptions like any
-- other (shipped, delivered, cancelled: its stock comes back, no points), naming the draw.
ALTER TABLE lottery_prize ADD COLUMN prize_reward_id text COLLATE "C" REFERENCES reward (id);

-- A prize's redemption: no points, hence no hold and no capture; prize_of_draw_id names the draw
-- that won it (no foreign key: the draw is written after it, and refers to it). The per-member
-- limit of the issued reward does not count prizes.
ALTER TABLE redemption ADD COLUMN prize_of_draw_id text COLLATE "C";
ALTER TABLE redemption ALTER COLUMN hold_id DROP NOT NULL;
ALTER TABLE redemption ALTER COLUMN capture_entry_id DROP NOT NULL;
ALTER TABLE redemption DROP CONSTRAINT redemption_points_check;
ALTER TABLE redemption ADD CONSTRAINT redemption_paid_or_won_check CHECK (
  (prize_of_draw_id IS NULL AND points >= 1 AND hold_id IS NOT NULL AND capture_entry_id IS NOT NULL)
  OR (prize_of_draw_id IS NOT NULL AND points = 0 AND hold_id IS NULL AND capture_entry_id IS NULL));

ALTER TABLE lottery_draw ADD COLUMN prize_redemption_id text COLLATE "C" REFERENCES redemption (id);
