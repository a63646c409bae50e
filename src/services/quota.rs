//! Daily image quotas (`DAILY_IMAGE_QUOTA`) and neuron budgets (`DAILY_NEURON_BUDGET`), per key,
//! per UTC day: a call's images and estimated neurons and USD are reserved atomically in D1
//! before any job is created (or any model asked), given back if the work could not be done.

use super::{Context, ServiceError};
use crate::access::Caller;
use crate::jobs::{JobStore, Limits, Spend};

const MS_PER_DAY: i64 = 86_400_000;

/// The UTC day `ms` falls on, as `YYYY-MM-DD` (the key of the usage counter).
pub fn utc_day(ms: i64) -> String {
    let (year, month, day) = crate::time::civil_from_days(ms.div_euclid(MS_PER_DAY));
    format!("{year:04}-{month:02}-{day:02}")
}

/// When the day `ms` falls on ends: the next UTC midnight, in ISO 8601.
pub fn quota_resets_at(ms: i64) -> String {
    let (year, month, day) = crate::time::civil_from_days(ms.div_euclid(MS_PER_DAY) + 1);
    format!("{year:04}-{month:02}-{day:02}T00:00:00.000Z")
}

/// The quota that applies to a caller: keys have the configured one, the administrator none.
pub fn quota_for(caller: &Caller, configured: Option<u32>) -> Option<u32> {
    if caller.is_admin() {
        None
    } else {
        configured
    }
}

/// The neuron budget that applies to a caller: keys have the configured one, the administrator none.
pub fn budget_for(caller: &Caller, configured: Option<f64>) -> Option<f64> {
    if caller.is_admin() {
        None
    } else {
        configured
    }
}

/// A granted reservation: give it back with [`Reservation::release`] if the jobs were not made.
pub struct Reservation {
    owner: String,
    day: String,
    spend: Spend,
    /// Already counted in D1 (a quota was checked first). Without a quota nothing can refuse the
    /// images, so they are counted in the batch that creates the jobs: one round trip, not two.
    counted: bool,
}

impl Reservation {
    /// The day and spend to count inside the job-creating batch, when not counted yet.
    pub fn count_with_jobs(&self) -> Option<(&str, Spend)> {
        (!self.counted).then_some((self.day.as_str(), self.spend))
    }

    /// Corrects the reserved spend to the real figure once known (describe_image); logged, never
    /// fatal: the call has already been answered for.
    pub async fn settle(self, store: &JobStore, neurons: f64, usd: f64) {
        let (delta_neurons, delta_usd) = (neurons - self.spend.neurons, usd - self.spend.usd);
        if let Err(error) = store
            .adjust_spend(&self.owner, &self.day, delta_neurons, delta_usd)
            .await
        {
            worker::console_error!(
                "could not record the spend of key {} for {}: {error}",
                self.owner,
                self.day
            );
        }
    }

    /// After the job-creating batch failed: that batch rolled back any count it carried, so only
    /// an earlier reservation is given back.
    pub async fn release_after_failed_insert(self, store: &JobStore) {
        if self.counted {
            self.release(store).await;
        }
    }

    /// Gives the images back (the jobs were created but could not be queued).
    pub async fn release(self, store: &JobStore) {
        if let Err(error) = store.release_usage(&self.owner, &self.day, self.spend).await {
            worker::console_error!(
                "could not give back {} reserved images of key {} for {}: {error}",
                self.spend.images,
                self.owner,
                self.day
            );
        }
    }
}

/// Counts `spend` against the caller's allowance for today, or refuses with the reset time.
/// Every caller's spend is counted (so usage is visible); only keys with a quota or a budget are
/// refused. Without a limit the spend is left to the job-creating batch
/// ([`Reservation::count_with_jobs`]).
pub async fn reserve(
    ctx: &impl Context,
    store: &JobStore,
    spend: Spend,
    now: i64,
) -> Result<Reservation, ServiceError> {
    reserve_at(ctx, store, spend, now, false).await
}

/// [`reserve`] for work that creates no job (describe_image): the spend is counted now, limit
/// or not, so it can be settled or released afterwards.
pub async fn reserve_now(
    ctx: &impl Context,
    store: &JobStore,
    spend: Spend,
    now: i64,
) -> Result<Reservation, ServiceError> {
    reserve_at(ctx, store, spend, now, true).await
}

async fn reserve_at(
    ctx: &impl Context,
    store: &JobStore,
    spend: Spend,
    now: i64,
    count_now: bool,
) -> Result<Reservation, ServiceError> {
    let owner = ctx.caller().name().to_string();
    let day = utc_day(now);
    let limits = Limits {
        images: quota_for(ctx.caller(), ctx.config().daily_image_quota),
        neurons: budget_for(ctx.caller(), ctx.config().daily_neuron_budget),
    };
    let reservation = |counted| Reservation {
        owner: owner.clone(),
        day: day.clone(),
        spend,
        counted,
    };
    if limits == Limits::default() && !count_now {
        return Ok(reservation(false));
    }
    if store.reserve_usage(&owner, &day, spend, limits).await? {
        return Ok(reservation(true));
    }
    let used = store.usage(&day, Some(&owner)).await?.into_iter().next();
    let (used_images, used_neurons) = used.map_or((0, 0.0), |usage| (usage.images, usage.neurons));
    worker::console_log!(
        "over a daily limit: key {owner} asked for {} images and {:.2} neurons with {used_images} and {used_neurons:.2} used today",
        spend.images,
        spend.neurons
    );
    match limits.images {
        Some(quota) if used_images + spend.images > i64::from(quota) => Err(ServiceError::OverQuota {
            key: owner,
            quota,
            used: used_images,
            requested: spend.images,
            resets_at: quota_resets_at(now),
        }),
        _ => Err(ServiceError::OverBudget {
            key: owner,
            budget: limits.neurons.unwrap_or_default(),
            used: used_neurons,
            requested: spend.neurons,
            resets_at: quota_resets_at(now),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_resets_follow_utc() {
        assert_eq!(utc_day(0), "1970-01-01");
        assert_eq!(quota_resets_at(0), "1970-01-02T00:00:00.000Z");
        // 2026-11-29T18:30:00Z
        let ms = 1_795_977_000_000;
        assert_eq!(utc_day(ms), "2026-11-29");
        assert_eq!(quota_resets_at(ms), "2026-11-30T00:00:00.000Z");
        // The last millisecond of a day belongs to it; the next starts the next day.
        let midnight = 1_796_083_200_000; // 2026-12-01T00:00:00Z
        assert_eq!(utc_day(midnight - 1), "2026-11-30");
        assert_eq!(utc_day(midnight), "2026-12-01");
        // Leap day and year end.
        assert_eq!(utc_day(951_782_400_000), "2000-02-29");
        assert_eq!(quota_resets_at(1_798_761_599_000), "2027-01-01T00:00:00.000Z");
    }

    #[test]
    fn only_keys_have_a_quota() {
        assert_eq!(budget_for(&Caller::Admin, Some(5.0)), None);
        assert_eq!(budget_for(&Caller::Key("a".into()), Some(5.0)), Some(5.0));
        assert_eq!(quota_for(&Caller::Admin, Some(5)), None);
        assert_eq!(quota_for(&Caller::Key("a".into()), Some(5)), Some(5));
        assert_eq!(quota_for(&Caller::Key("a".into()), None), None);
    }
}
