//! Daily image quotas (`DAILY_IMAGE_QUOTA`, per key, per UTC day): reserved atomically in D1
//! before any job is created, given back if the jobs could not be created.

use super::{Context, ServiceError};
use crate::access::Caller;
use crate::jobs::JobStore;

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

/// A granted reservation: give it back with [`Reservation::release`] if the jobs were not made.
pub struct Reservation {
    owner: String,
    day: String,
    images: i64,
    /// Already counted in D1 (a quota was checked first). Without a quota nothing can refuse the
    /// images, so they are counted in the batch that creates the jobs: one round trip, not two.
    counted: bool,
}

impl Reservation {
    /// The day to count the images under inside the job-creating batch, when not counted yet.
    pub fn count_with_jobs(&self) -> Option<&str> {
        (!self.counted).then_some(self.day.as_str())
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
        if let Err(error) = store.release_images(&self.owner, &self.day, self.images).await {
            worker::console_error!(
                "could not give back {} reserved images of key {} for {}: {error}",
                self.images,
                self.owner,
                self.day
            );
        }
    }
}

/// Counts `images` against the caller's allowance for today, or refuses with the reset time.
/// Every caller's images are counted (so usage is visible); only keys with a quota are refused.
pub async fn reserve(
    ctx: &impl Context,
    store: &JobStore,
    images: usize,
    now: i64,
) -> Result<Reservation, ServiceError> {
    let owner = ctx.caller().name().to_string();
    let day = utc_day(now);
    let images = images as i64;
    let Some(quota) = quota_for(ctx.caller(), ctx.config().daily_image_quota) else {
        return Ok(Reservation {
            owner,
            day,
            images,
            counted: false,
        });
    };
    if store.reserve_images(&owner, &day, images, Some(quota)).await? {
        return Ok(Reservation {
            owner,
            day,
            images,
            counted: true,
        });
    }
    let used = store
        .usage(&day, Some(&owner))
        .await?
        .first()
        .map_or(0, |usage| usage.images);
    worker::console_log!("over quota: key {owner} asked for {images} images with {used} used today");
    Err(ServiceError::OverQuota {
        key: owner,
        quota,
        used,
        requested: images,
        resets_at: quota_resets_at(now),
    })
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
        assert_eq!(quota_for(&Caller::Admin, Some(5)), None);
        assert_eq!(quota_for(&Caller::Key("a".into()), Some(5)), Some(5));
        assert_eq!(quota_for(&Caller::Key("a".into()), None), None);
    }
}
