//! Native methods of `org.dmnonce.Subscription`: the event thread.
//!
//! A subscription is its own connection (the protocol turns a subscribed
//! connection into an event stream). Its events are read on a Rust thread
//! that this library owns, attached to the JVM as a *daemon* thread (it must
//! not keep the JVM alive) and detached before it ends, so that when
//! `nativeStop` returns the thread no longer touches the JVM.
//!
//! The thread calls back into the `Subscription` object only through its
//! methods, passing strings and ints: it never looks a class up by name,
//! because on Android `FindClass` from a native thread sees only the system
//! class loader, not the app's classes.

use crate::boundary::{panic_message, BridgeError};
use crate::client_natives::connect;
use crate::{exceptions, handle, values};
use dmnonce_control::{ClientError, Event, EventStream};
use jni::objects::{GlobalRef, JObject, JObjectArray, JString, JValue};
use jni::sys::jlong;
use jni::{JNIEnv, JavaVM};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle, ThreadId};
use std::time::Duration;

/// How often the thread looks at its stop flag while no event arrives;
/// bounds how long `close()` waits.
const POLL: Duration = Duration::from_millis(100);

const THREAD_NAME: &str = "dmnonce-events";

/// What a `Subscription` handle owns.
struct EventThread {
    stop: Arc<AtomicBool>,
    join: Option<JoinHandle<()>>,
    id: ThreadId,
}

impl Drop for EventThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // A listener that closes its own subscription runs on this very
        // thread: joining would wait for ourselves. The thread sees the flag
        // as soon as the callback returns and ends by itself.
        if thread::current().id() == self.id {
            return;
        }
        if let Some(join) = self.join.take() {
            let _ = join.join();
        }
    }
}

native! {
    fn Java_org_dmnonce_Subscription_nativeStart(
        env,
        subscription: JObject<'l>,
        path: JString<'l>,
        kinds: JObjectArray<'l>,
        timeout_ms: jlong,
    ) -> jlong {
        if subscription.is_null() {
            return Err(BridgeError::NullArgument("subscription"));
        }
        let path = values::string(env, &path, "socketPath")?;
        let kinds = values::event_kinds(env, &kinds)?;
        // Subscribe on the caller's thread, so "daemon absent" is thrown
        // from subscribe() rather than reported later on the event thread.
        let stream = connect(&path, timeout_ms)?.subscribe(&kinds)?;
        let vm = env.get_java_vm()?;
        let target = env.new_global_ref(&subscription)?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = Arc::clone(&stop);
        let join = thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || event_thread(vm, target, stream, thread_stop))
            .map_err(|e| BridgeError::Client(ClientError::Io(e)))?;
        let id = join.thread().id();
        Ok(handle::into_raw(EventThread {
            stop,
            join: Some(join),
            id,
        }))
    }
}

native! {
    fn Java_org_dmnonce_Subscription_nativeStop(_, handle: jlong) {
        // SAFETY: Java passes each handle here once and zeroes its field.
        drop(unsafe { handle::destroy::<EventThread>(handle) });
        Ok(())
    }
}

fn event_thread(vm: JavaVM, target: GlobalRef, stream: EventStream, stop: Arc<AtomicBool>) {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // Daemon: an application that forgets to close its subscription
        // must still be able to exit.
        let mut env = match vm.attach_current_thread_as_daemon() {
            Ok(env) => env,
            Err(e) => {
                // Without a JNIEnv there is no way to tell the listener.
                eprintln!("dmnonce_jni: cannot attach the event thread to the JVM: {e}");
                return;
            }
        };
        name_java_thread(&mut env);
        let ended = pump(&mut env, target.as_obj(), stream, &stop);
        if let Some((class, message)) = ended {
            if !stop.load(Ordering::Acquire) {
                report_disconnect(&mut env, target.as_obj(), class, &message);
            }
        }
    }));
    if let Err(payload) = outcome {
        // A bug in this library. The listener still hears that no more
        // events will come, so "onDisconnected unless closed" always holds.
        let message = format!(
            "dmnonce_jni event thread failed (a library bug): {}",
            panic_message(payload.as_ref())
        );
        eprintln!("{message}");
        if !stop.load(Ordering::Acquire) {
            if let Ok(mut env) = vm.get_env() {
                clear_pending(&mut env);
                report_disconnect(&mut env, target.as_obj(), "protocol", &message);
            }
        }
    }
    // Delete the global reference while still attached.
    drop(target);
    // SAFETY: the JNIEnv of this thread went out of scope with the closure
    // above; nothing on this thread uses JNI after this point.
    unsafe { vm.detach_current_thread() };
}

/// Gives the attached thread's `java.lang.Thread` the library's name, so
/// that stack dumps and listeners can tell it apart ("Thread-N" otherwise).
/// Cosmetic: a failure is cleared and ignored.
fn name_java_thread(env: &mut JNIEnv) {
    let named = env.with_local_frame(4, |env| -> Result<(), BridgeError> {
        let thread = env
            .call_static_method(
                "java/lang/Thread",
                "currentThread",
                "()Ljava/lang/Thread;",
                &[],
            )?
            .l()?;
        let name = env.new_string(THREAD_NAME)?;
        env.call_method(
            &thread,
            "setName",
            "(Ljava/lang/String;)V",
            &[JValue::Object(&name)],
        )?;
        Ok(())
    });
    if named.is_err() {
        clear_pending(env);
    }
}

/// Reads and delivers events until asked to stop (`None`) or until the
/// connection fails (`Some(error class, message)`).
fn pump(
    env: &mut JNIEnv,
    target: &JObject,
    mut stream: EventStream,
    stop: &AtomicBool,
) -> Option<(&'static str, String)> {
    while !stop.load(Ordering::Acquire) {
        match stream.next_event(Some(POLL)) {
            Ok(None) => {}
            Ok(Some(event)) => {
                // One local frame per event: a long-lived thread would
                // otherwise leak a local reference or more per event.
                let delivered = env.with_local_frame(8, |env| deliver(env, target, &event));
                if delivered.is_err() {
                    clear_pending(env);
                }
            }
            Err(e) => return Some((exceptions::error_class_name(&e), e.to_string())),
        }
    }
    None
}

/// The Java side catches listener exceptions itself; anything still pending
/// here (an `Error` such as OutOfMemoryError) is printed and cleared so the
/// thread keeps its JNI state valid.
fn clear_pending(env: &mut JNIEnv) {
    if env.exception_check().unwrap_or(false) {
        let _ = env.exception_describe();
        let _ = env.exception_clear();
    }
}

fn deliver(env: &mut JNIEnv, target: &JObject, event: &Event) -> Result<(), BridgeError> {
    use values::STRING as S;
    match event {
        Event::Alert {
            notification: n,
            verdict,
        } => {
            let notification = values::NotificationArgs::new(env, n)?;
            let verdict = env.new_string(values::verdict_name(*verdict))?;
            let mut args = notification.values().to_vec();
            args.push(JValue::Object(&verdict));
            env.call_method(
                target,
                "onNativeAlert",
                format!("({}{S})V", values::NotificationArgs::SIGNATURE),
                &args,
            )?;
        }
        Event::ResyncStarted {
            server_id,
            session_id,
        } => resync(env, target, "resync-started", server_id, *session_id, None)?,
        Event::ResyncFinished {
            server_id,
            session_id,
        } => resync(env, target, "resync-finished", server_id, *session_id, None)?,
        Event::ResyncFailed {
            server_id,
            session_id,
            reason,
        } => resync(
            env,
            target,
            "resync-failed",
            server_id,
            *session_id,
            Some(reason),
        )?,
        Event::PushRejected { server_id, reason } => {
            let server_id = values::opt_jstr(env, server_id.as_deref())?;
            let reason = env.new_string(reason)?;
            env.call_method(
                target,
                "onNativePushRejected",
                format!("({S}{S})V"),
                &[JValue::Object(&server_id), JValue::Object(&reason)],
            )?;
        }
        Event::Other(_) => {
            // A newer daemon's kind: Java is told its name and nothing else
            // (its fields mean nothing to this library).
            let kind = env.new_string(event.unknown_kind().unwrap_or(""))?;
            env.call_method(
                target,
                "onNativeUnknownEvent",
                format!("({S})V"),
                &[JValue::Object(&kind)],
            )?;
        }
    }
    Ok(())
}

fn resync(
    env: &mut JNIEnv,
    target: &JObject,
    kind: &str,
    server_id: &str,
    session_id: u16,
    reason: Option<&str>,
) -> Result<(), BridgeError> {
    use values::STRING as S;
    let kind = env.new_string(kind)?;
    let server_id = env.new_string(server_id)?;
    let reason = values::opt_jstr(env, reason)?;
    env.call_method(
        target,
        "onNativeResync",
        format!("({S}{S}I{S})V"),
        &[
            JValue::Object(&kind),
            JValue::Object(&server_id),
            JValue::Int(i32::from(session_id)),
            JValue::Object(&reason),
        ],
    )?;
    Ok(())
}

fn report_disconnect(env: &mut JNIEnv, target: &JObject, class: &str, message: &str) {
    let result = env.with_local_frame(4, |env| -> Result<(), BridgeError> {
        let class = env.new_string(class)?;
        let message = env.new_string(message)?;
        env.call_method(
            target,
            "onNativeDisconnected",
            "(Ljava/lang/String;Ljava/lang/String;)V",
            &[JValue::Object(&class), JValue::Object(&message)],
        )?;
        Ok(())
    });
    if result.is_err() {
        clear_pending(env);
    }
}
