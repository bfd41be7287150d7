//! Native methods of `org.dmnonce.DmNonce`: one request/response connection.
//!
//! Threads: Java serialises every call on one `DmNonce` with its `close()`
//! (see `DmNonce.java`); the mutex here makes the handle safe even if that
//! ever changed. Calls block for at most the connection's timeout (twice
//! that after an idle spell: probe, then request).

use crate::boundary::BridgeError;
use crate::{handle, values};
use dmnonce_control::{Client, ClientError};
use jni::objects::{JByteArray, JObjectArray, JString};
use jni::sys::{jboolean, jlong, jobject, JNI_FALSE, JNI_TRUE};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// What a `DmNonce` handle owns. The control client survives the daemon's
/// idle timeout and restarts by itself (probe after a pause, reconnect, the
/// request sent exactly once).
pub(crate) struct ClientHandle {
    client: Mutex<Client>,
}

impl ClientHandle {
    fn new(path: String, timeout_ms: jlong) -> Result<Self, ClientError> {
        Ok(ClientHandle {
            client: Mutex::new(connect(&path, timeout_ms)?),
        })
    }

    fn call<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, ClientError>,
    ) -> Result<T, BridgeError> {
        // A panic while the lock was held leaves at worst an unanswered
        // request behind, which the client skips by id: keep going.
        let mut client = self.client.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(f(&mut client)?)
    }
}

// The control client's own default (docs/protocol.md).
use dmnonce_control::defaults::REQUEST_TIMEOUT as DEFAULT_TIMEOUT;

/// Connection timeout from Java milliseconds (non-positive: the default).
pub(crate) fn timeout(millis: jlong) -> Duration {
    match u64::try_from(millis) {
        Ok(ms) if ms > 0 => Duration::from_millis(ms),
        _ => DEFAULT_TIMEOUT,
    }
}

/// Connects and says `hello`, so a stale socket file or a daemon speaking
/// another protocol version fails here rather than at the first real call.
pub(crate) fn connect(path: &str, timeout_ms: jlong) -> Result<Client, ClientError> {
    let mut client = Client::connect(path)?;
    client.set_timeout(timeout(timeout_ms));
    client.hello()?;
    Ok(client)
}

/// Runs `f` on the client behind `handle`.
///
/// Contract with `DmNonce.java` (for every native method taking a handle):
/// `handle` is zero or a live handle from `nativeConnect`, and the Java lock
/// keeps it live for the duration of the call.
fn with_client<T>(
    handle: jlong,
    f: impl FnOnce(&mut Client) -> Result<T, ClientError>,
) -> Result<T, BridgeError> {
    // SAFETY: the contract above is exactly `handle::borrow`'s.
    let h = unsafe { handle::borrow::<ClientHandle>(handle) }?;
    h.call(f)
}

native! {
    fn Java_org_dmnonce_DmNonce_nativeConnect(env, path: JString<'l>, timeout_ms: jlong) -> jlong {
        let path = values::string(env, &path, "socketPath")?;
        Ok(handle::into_raw(ClientHandle::new(path, timeout_ms)?))
    }
}

native! {
    fn Java_org_dmnonce_DmNonce_nativeClose(_, handle: jlong) {
        // SAFETY: Java passes each handle here once and zeroes its field.
        drop(unsafe { handle::destroy::<ClientHandle>(handle) });
        Ok(())
    }
}

native! {
    fn Java_org_dmnonce_DmNonce_nativePush(
        env,
        handle: jlong,
        format: JString<'l>,
        data: JByteArray<'l>,
    ) -> jobject {
        let format = values::push_format(&values::string(env, &format, "format")?)?;
        let data = values::bytes(env, &data, "data")?;
        let result = with_client(handle, |c| c.push(format, &data))?;
        Ok(values::push_result(env, &result)?.into_raw())
    }
}

native! {
    fn Java_org_dmnonce_DmNonce_nativePushSms(
        env,
        handle: jlong,
        pdus: JObjectArray<'l>,
        smsc_included: jboolean,
    ) -> jobject {
        let pdus = values::byte_arrays(env, &pdus, "pdus")?;
        let result = with_client(handle, |c| c.push_sms(&pdus, smsc_included == JNI_TRUE))?;
        Ok(values::push_result(env, &result)?.into_raw())
    }
}

native! {
    fn Java_org_dmnonce_DmNonce_nativeVerify(
        env,
        handle: jlong,
        package0: JByteArray<'l>,
    ) -> jobject {
        let package0 = values::bytes(env, &package0, "package0")?;
        let result = with_client(handle, |c| c.verify(&package0))?;
        Ok(values::verify_result(env, &result)?.into_raw())
    }
}

native! {
    fn Java_org_dmnonce_DmNonce_nativeClientCred(
        env,
        handle: jlong,
        server_id: JString<'l>,
        body: JByteArray<'l>,
    ) -> jobject {
        let server_id = values::string(env, &server_id, "serverId")?;
        let body = values::opt_bytes(env, &body)?;
        let result = with_client(handle, |c| c.client_cred(&server_id, body.as_deref()))?;
        Ok(values::client_credential(env, &result)?.into_raw())
    }
}

native! {
    fn Java_org_dmnonce_DmNonce_nativeCheckServerCred(
        env,
        handle: jlong,
        server_id: JString<'l>,
        body: JByteArray<'l>,
        cred_data: JString<'l>,
        hmac_header: JString<'l>,
    ) -> jboolean {
        let server_id = values::string(env, &server_id, "serverId")?;
        let body = values::opt_bytes(env, &body)?;
        let cred_data = values::opt_string(env, &cred_data)?;
        let hmac_header = values::opt_string(env, &hmac_header)?;
        let valid = with_client(handle, |c| {
            c.check_server_cred(
                &server_id,
                body.as_deref(),
                cred_data.as_deref(),
                hmac_header.as_deref(),
            )
        })?;
        Ok(if valid { JNI_TRUE } else { JNI_FALSE })
    }
}

native! {
    fn Java_org_dmnonce_DmNonce_nativeAcceptChal(
        env,
        handle: jlong,
        server_id: JString<'l>,
        next_nonce_b64: JString<'l>,
    ) {
        let server_id = values::string(env, &server_id, "serverId")?;
        let next_nonce = values::string(env, &next_nonce_b64, "nextNonceB64")?;
        with_client(handle, |c| c.accept_chal(&server_id, &next_nonce))
    }
}

native! {
    fn Java_org_dmnonce_DmNonce_nativeIssueChal(
        env,
        handle: jlong,
        server_id: JString<'l>,
        encoding: JString<'l>,
    ) -> jobject {
        let server_id = values::string(env, &server_id, "serverId")?;
        let encoding = match values::opt_string(env, &encoding)? {
            Some(name) => Some(values::encoding(&name)?),
            None => None,
        };
        let result = with_client(handle, |c| c.issue_chal(&server_id, encoding))?;
        Ok(values::chal(env, &result)?.into_raw())
    }
}

native! {
    fn Java_org_dmnonce_DmNonce_nativeStatus(env, handle: jlong) -> jobject {
        let result = with_client(handle, |c| c.status())?;
        Ok(values::status(env, &result)?.into_raw())
    }
}
