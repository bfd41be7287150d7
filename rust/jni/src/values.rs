//! Conversions between Java arguments/results and the control protocol's
//! types.
//!
//! Enums cross the boundary as their wire names (the Java enums map them back
//! with `fromWire`), so the two sides share the protocol document's spelling
//! rather than ordinal numbers that could drift.

use crate::boundary::BridgeError;
use dmnonce_control::{
    AccountInfo, ClientCredResult, Counters, Encoding, EventKind, IssueChalResult,
    NotificationInfo, PushFormat, PushOutcome, PushResult, StatusResult, VerdictName, VerifyResult,
};
use jni::objects::{JByteArray, JObject, JObjectArray, JString, JValue};
use jni::JNIEnv;

// ---- arguments -----------------------------------------------------------

pub(crate) fn string(
    env: &mut JNIEnv,
    value: &JString,
    name: &'static str,
) -> Result<String, BridgeError> {
    if value.is_null() {
        return Err(BridgeError::NullArgument(name));
    }
    Ok(env.get_string(value)?.into())
}

pub(crate) fn opt_string(env: &mut JNIEnv, value: &JString) -> Result<Option<String>, BridgeError> {
    if value.is_null() {
        return Ok(None);
    }
    Ok(Some(env.get_string(value)?.into()))
}

pub(crate) fn bytes(
    env: &mut JNIEnv,
    value: &JByteArray,
    name: &'static str,
) -> Result<Vec<u8>, BridgeError> {
    if value.is_null() {
        return Err(BridgeError::NullArgument(name));
    }
    Ok(env.convert_byte_array(value)?)
}

pub(crate) fn opt_bytes(
    env: &mut JNIEnv,
    value: &JByteArray,
) -> Result<Option<Vec<u8>>, BridgeError> {
    if value.is_null() {
        return Ok(None);
    }
    Ok(Some(env.convert_byte_array(value)?))
}

/// A `byte[][]`, each element read inside its own local frame so a long
/// array cannot exhaust the local reference table.
pub(crate) fn byte_arrays(
    env: &mut JNIEnv,
    value: &JObjectArray,
    name: &'static str,
) -> Result<Vec<Vec<u8>>, BridgeError> {
    if value.is_null() {
        return Err(BridgeError::NullArgument(name));
    }
    let len = env.get_array_length(value)?;
    let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    for i in 0..len {
        let item = env.with_local_frame(4, |env| -> Result<Vec<u8>, BridgeError> {
            let element = JByteArray::from(env.get_object_array_element(value, i)?);
            bytes(env, &element, name)
        })?;
        out.push(item);
    }
    Ok(out)
}

/// A `String[]` of event kind names.
pub(crate) fn event_kinds(
    env: &mut JNIEnv,
    value: &JObjectArray,
) -> Result<Vec<EventKind>, BridgeError> {
    if value.is_null() {
        return Ok(Vec::new());
    }
    let len = env.get_array_length(value)?;
    let mut out = Vec::new();
    for i in 0..len {
        let name = env.with_local_frame(4, |env| -> Result<String, BridgeError> {
            let element = JString::from(env.get_object_array_element(value, i)?);
            string(env, &element, "event kind")
        })?;
        out.push(event_kind(&name)?);
    }
    Ok(out)
}

fn event_kind(name: &str) -> Result<EventKind, BridgeError> {
    Ok(match name {
        "alert" => EventKind::Alert,
        "resync-started" => EventKind::ResyncStarted,
        "resync-finished" => EventKind::ResyncFinished,
        "resync-failed" => EventKind::ResyncFailed,
        "push-rejected" => EventKind::PushRejected,
        other => {
            return Err(BridgeError::IllegalArgument(format!(
                "unknown event kind {other:?}"
            )))
        }
    })
}

pub(crate) fn push_format(name: &str) -> Result<PushFormat, BridgeError> {
    Ok(match name {
        "auto" => PushFormat::Auto,
        "wsp" => PushFormat::Wsp,
        "package0" => PushFormat::Package0,
        "sms" => PushFormat::Sms,
        other => {
            return Err(BridgeError::IllegalArgument(format!(
                "unknown push format {other:?}"
            )))
        }
    })
}

pub(crate) fn encoding(name: &str) -> Result<Encoding, BridgeError> {
    Encoding::from_name(name)
        .ok_or_else(|| BridgeError::IllegalArgument(format!("unknown encoding {name:?}")))
}

// ---- wire names ------------------------------------------------------------

pub(crate) fn outcome_name(o: PushOutcome) -> &'static str {
    o.as_str()
}

pub(crate) fn verdict_name(v: VerdictName) -> &'static str {
    v.as_str()
}

// ---- results ---------------------------------------------------------------

pub(crate) const STRING: &str = "Ljava/lang/String;";

fn jstr<'l>(env: &mut JNIEnv<'l>, s: &str) -> Result<JObject<'l>, BridgeError> {
    Ok(env.new_string(s)?.into())
}

/// A Java string, or `null` for `None`.
pub(crate) fn opt_jstr<'l>(
    env: &mut JNIEnv<'l>,
    s: Option<&str>,
) -> Result<JObject<'l>, BridgeError> {
    match s {
        Some(s) => jstr(env, s),
        None => Ok(JObject::null()),
    }
}

/// A notification as JNI arguments, in the order of the `Notification`
/// constructor, which `Subscription.onNativeAlert` takes first too (it
/// builds the `Notification` on the Java side).
pub(crate) struct NotificationArgs<'l> {
    ints: [i32; 4],
    server_id: JObject<'l>,
    vendor_hex: JObject<'l>,
}

impl<'l> NotificationArgs<'l> {
    /// JNI signature of the arguments: version, uiMode, initiator,
    /// sessionId, serverId, vendorHex.
    pub(crate) const SIGNATURE: &'static str = "IIIILjava/lang/String;Ljava/lang/String;";

    pub(crate) fn new(env: &mut JNIEnv<'l>, n: &NotificationInfo) -> Result<Self, BridgeError> {
        Ok(NotificationArgs {
            ints: [
                i32::from(n.version),
                i32::from(n.ui_mode),
                i32::from(n.initiator),
                i32::from(n.session_id),
            ],
            server_id: jstr(env, &n.server_id)?,
            vendor_hex: jstr(env, &n.vendor_hex)?,
        })
    }

    pub(crate) fn values(&self) -> [JValue<'l, '_>; 6] {
        let [version, ui_mode, initiator, session_id] = self.ints.map(JValue::Int);
        [
            version,
            ui_mode,
            initiator,
            session_id,
            JValue::Object(&self.server_id),
            JValue::Object(&self.vendor_hex),
        ]
    }
}

pub(crate) fn notification<'l>(
    env: &mut JNIEnv<'l>,
    n: &NotificationInfo,
) -> Result<JObject<'l>, BridgeError> {
    let args = NotificationArgs::new(env, n)?;
    Ok(env.new_object(
        "org/dmnonce/Notification",
        format!("({})V", NotificationArgs::SIGNATURE),
        &args.values(),
    )?)
}

pub(crate) fn push_result<'l>(
    env: &mut JNIEnv<'l>,
    r: &PushResult,
) -> Result<JObject<'l>, BridgeError> {
    let outcome = jstr(env, outcome_name(r.outcome))?;
    let verdict = opt_jstr(env, r.verdict.map(verdict_name))?;
    let notification = match &r.notification {
        Some(n) => notification(env, n)?,
        None => JObject::null(),
    };
    Ok(env.new_object(
        "org/dmnonce/PushResult",
        format!("({STRING}{STRING}Lorg/dmnonce/Notification;)V"),
        &[
            JValue::Object(&outcome),
            JValue::Object(&verdict),
            JValue::Object(&notification),
        ],
    )?)
}

pub(crate) fn verify_result<'l>(
    env: &mut JNIEnv<'l>,
    r: &VerifyResult,
) -> Result<JObject<'l>, BridgeError> {
    let verdict = jstr(env, verdict_name(r.verdict))?;
    let notification = notification(env, &r.notification)?;
    Ok(env.new_object(
        "org/dmnonce/VerifyResult",
        format!("({STRING}Lorg/dmnonce/Notification;)V"),
        &[JValue::Object(&verdict), JValue::Object(&notification)],
    )?)
}

pub(crate) fn client_credential<'l>(
    env: &mut JNIEnv<'l>,
    r: &ClientCredResult,
) -> Result<JObject<'l>, BridgeError> {
    let scheme = jstr(env, r.scheme.as_str())?;
    let cred_type = opt_jstr(env, r.cred_type.as_deref())?;
    let cred_data = opt_jstr(env, r.cred_data.as_deref())?;
    let hmac_header = opt_jstr(env, r.hmac_header.as_deref())?;
    Ok(env.new_object(
        "org/dmnonce/ClientCredential",
        format!("({STRING}{STRING}{STRING}{STRING})V"),
        &[
            JValue::Object(&scheme),
            JValue::Object(&cred_type),
            JValue::Object(&cred_data),
            JValue::Object(&hmac_header),
        ],
    )?)
}

pub(crate) fn chal<'l>(
    env: &mut JNIEnv<'l>,
    r: &IssueChalResult,
) -> Result<JObject<'l>, BridgeError> {
    let encoding = jstr(env, r.encoding.as_str())?;
    let fragment = jstr(env, &r.chal)?;
    Ok(env.new_object(
        "org/dmnonce/Chal",
        format!("({STRING}{STRING})V"),
        &[JValue::Object(&encoding), JValue::Object(&fragment)],
    )?)
}

fn account_info<'l>(env: &mut JNIEnv<'l>, a: &AccountInfo) -> Result<JObject<'l>, BridgeError> {
    let fields = [
        jstr(env, &a.server_id)?,
        jstr(env, &a.server_url)?,
        jstr(env, &a.client_name)?,
        jstr(env, a.auth_scheme.as_str())?,
        jstr(env, a.encoding.as_str())?,
        jstr(env, a.policy.as_str())?,
        jstr(env, a.state.as_str())?,
    ];
    let args: Vec<JValue> = fields.iter().map(JValue::Object).collect();
    Ok(env.new_object(
        "org/dmnonce/AccountInfo",
        format!("({})V", STRING.repeat(fields.len())),
        &args,
    )?)
}

/// `AccountInfo[]`; each element is built in its own local frame (a device
/// may carry many accounts, the local reference table is small).
pub(crate) fn account_infos<'l>(
    env: &mut JNIEnv<'l>,
    accounts: &[AccountInfo],
) -> Result<JObjectArray<'l>, BridgeError> {
    let len = i32::try_from(accounts.len())
        .map_err(|_| BridgeError::IllegalArgument("too many accounts".into()))?;
    let array = env.new_object_array(len, "org/dmnonce/AccountInfo", JObject::null())?;
    for (i, account) in (0..len).zip(accounts) {
        env.with_local_frame(12, |env| -> Result<(), BridgeError> {
            let info = account_info(env, account)?;
            env.set_object_array_element(&array, i, info)?;
            Ok(())
        })?;
    }
    Ok(array)
}

fn counters<'l>(env: &mut JNIEnv<'l>, c: &Counters) -> Result<JObject<'l>, BridgeError> {
    let values = [
        c.pushes,
        c.alerts,
        c.fallbacks,
        c.rejected,
        c.replays,
        c.refused,
        c.resyncs_finished,
        c.resyncs_failed,
    ];
    // Counters never approach 2^63; saturate rather than wrap if one did.
    let args: Vec<JValue> = values
        .iter()
        .map(|v| JValue::Long(i64::try_from(*v).unwrap_or(i64::MAX)))
        .collect();
    Ok(env.new_object(
        "org/dmnonce/Counters",
        format!("({})V", "J".repeat(values.len())),
        &args,
    )?)
}

pub(crate) fn status<'l>(
    env: &mut JNIEnv<'l>,
    s: &StatusResult,
) -> Result<JObject<'l>, BridgeError> {
    let version = jstr(env, &s.daemon_version)?;
    let accounts = account_infos(env, &s.accounts)?;
    let counters = counters(env, &s.counters)?;
    Ok(env.new_object(
        "org/dmnonce/Status",
        format!("(I{STRING}J[Lorg/dmnonce/AccountInfo;Lorg/dmnonce/Counters;)V"),
        &[
            JValue::Int(i32::try_from(s.protocol).unwrap_or(i32::MAX)),
            JValue::Object(&version),
            JValue::Long(i64::try_from(s.uptime_secs).unwrap_or(i64::MAX)),
            JValue::Object(&accounts),
            JValue::Object(&counters),
        ],
    )?)
}
