//! Time: the runtime clock, a timer that always wakes its task, and UTC civil dates.

/// Waits `ms` milliseconds on the runtime's timer.
///
/// `worker::Delay` keeps the waker of the task that first polled it; a wait driven from a
/// streamed response body is polled by a new task per read, so it would never wake. A
/// promise-backed timer always wakes the task currently awaiting it.
pub async fn sleep_ms(ms: u64) {
    use worker::js_sys::{Function, Promise};
    use worker::wasm_bindgen::JsCast;
    let promise = Promise::new(&mut |resolve: Function, _reject: Function| {
        let global: worker::web_sys::WorkerGlobalScope = worker::js_sys::global().unchecked_into();
        // setTimeout only fails for a non-callable callback, which `resolve` never is.
        let _ = global.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms.min(i32::MAX as u64) as i32);
    });
    let _ = worker::wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Milliseconds since the Unix epoch (the runtime clock).
pub fn now_ms() -> i64 {
    worker::Date::now().as_millis() as i64
}

/// The current time as ISO 8601, as JavaScript's `toISOString` writes it.
pub fn now_iso() -> String {
    String::from(worker::js_sys::Date::new_0().to_iso_string())
}

/// `ms` since the Unix epoch as ISO 8601 UTC with milliseconds, as `toISOString` writes it.
pub fn iso_from_ms(ms: i64) -> String {
    let (days, in_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (year, month, day) = civil_from_days(days);
    let (hours, minutes) = (in_day / 3_600_000, in_day / 60_000 % 60);
    let (seconds, millis) = (in_day / 1000 % 60, in_day % 1000);
    format!("{year:04}-{month:02}-{day:02}T{hours:02}:{minutes:02}:{seconds:02}.{millis:03}Z")
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day) — Howard Hinnant's
/// `civil_from_days`. Used for UTC dates: the gallery's times and the daily quota's day.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}
