//! Native entry points for the host JUnit suite only (`--features testing`,
//! Java class `org.dmnonce.NativeTesting` under `tests/java`). They drive the
//! same boundary and conversion code as the real methods, with inputs a live
//! daemon cannot easily produce: a panic, every error class, a missing
//! exception class, and a result array long enough to overflow the local
//! reference table if the per-element frames were missing.

use crate::boundary::{throw, BridgeError};
use crate::exceptions::JavaException;
use crate::values;
use dmnonce_control::{
    AccountInfo, AccountState, AuthScheme, ClientError, Encoding, ErrorCode, Policy, WireError,
};
use jni::objects::{JClass, JString};
use jni::sys::{jint, jobjectArray};
use jni::JNIEnv;

native! {
    fn Java_org_dmnonce_NativeTesting_panic(_) -> jint {
        panic!("provoked by NativeTesting.panic")
    }
}

native! {
    /// Throws what the bridge throws for a daemon error named `code` (a wire
    /// name) or a connection failure (`daemon_unavailable`, `timeout`,
    /// `closed`, `protocol`, `io`, `use_after_close`).
    fn Java_org_dmnonce_NativeTesting_throwFor(env, code: JString<'l>, message: JString<'l>) {
        let code = values::string(env, &code, "code")?;
        let message = values::string(env, &message, "message")?;
        Err(match code.as_str() {
            "daemon_unavailable" => BridgeError::Client(ClientError::Connect {
                path: message.into(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            }),
            "io" => BridgeError::Client(ClientError::Io(std::io::Error::other(message))),
            "timeout" => BridgeError::Client(ClientError::Timeout),
            "closed" => BridgeError::Client(ClientError::Closed),
            "protocol" => BridgeError::Client(ClientError::Protocol(message)),
            "use_after_close" => BridgeError::Closed,
            name => {
                let wire = ErrorCode::ALL
                    .into_iter()
                    .find(|c| c.as_str() == name)
                    .ok_or_else(|| BridgeError::IllegalArgument(format!("no code {name:?}")))?;
                BridgeError::Client(ClientError::Daemon(WireError::new(wire, message)))
            }
        })
    }
}

/// Throws an exception whose class does not exist: the caller must get the
/// `AssertionError` fallback, not a crash or a silent return.
#[no_mangle]
pub extern "system" fn Java_org_dmnonce_NativeTesting_throwMissingClass<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
) {
    throw(
        &mut env,
        &JavaException::new("org/dmnonce/NoSuchException", "deliberately missing class"),
    );
}

native! {
    /// Builds `count` `AccountInfo`s through the same code as `status()`.
    fn Java_org_dmnonce_NativeTesting_accountInfos(env, count: jint) -> jobjectArray {
        let accounts: Vec<AccountInfo> = (0..count.max(0))
            .map(|i| AccountInfo {
                server_id: format!("server-{i}"),
                server_url: format!("https://127.0.0.1/dm/{i}"),
                client_name: format!("device-{i}"),
                auth_scheme: AuthScheme::Hmac,
                encoding: Encoding::Wbxml,
                policy: Policy::Deny,
                state: AccountState::NeedsResync,
            })
            .collect();
        Ok(values::account_infos(env, &accounts)?.into_raw())
    }
}
