-- Cost per image and spend per day (issue 22).
--
-- Every job records what it is estimated to cost when it is created: neurons (the unit Workers AI
-- bills in, NULL when the model's price is not listed) and USD (neurons at $0.011 per 1,000, or an
-- Images transformation's price for background removal). Rows from before this migration have
-- neither (NULL: unknown).
ALTER TABLE generation_jobs ADD COLUMN estimated_neurons REAL;
ALTER TABLE generation_jobs ADD COLUMN estimated_usd REAL;

-- Each key's spend per UTC day beside its images: reserved with the jobs (or, for describe_image,
-- before the model is asked and corrected to the model's own token count after), given back with
-- them when they cannot be created. DAILY_NEURON_BUDGET is checked against `neurons`.
ALTER TABLE daily_usage ADD COLUMN neurons REAL NOT NULL DEFAULT 0;
ALTER TABLE daily_usage ADD COLUMN usd REAL NOT NULL DEFAULT 0;
