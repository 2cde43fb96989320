-- What members see points called in English (the member centre and the console in English);
-- point_name stays the Chinese name (默认 积分). Programs made before this migration get "points".
ALTER TABLE program ADD COLUMN point_name_en text NOT NULL DEFAULT 'points';
