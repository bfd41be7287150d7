//! Writes the fuzz seed files (rust/fuzz/seeds/<target>/) from the test
//! vectors: `cargo run -p dmnonce-push --example fuzz_seeds -- rust/fuzz/seeds`.
//! The output is checked in; rerun when the vectors or framing change.

use std::path::Path;

use dmnonce_push::sms::{encode_wap_push, Address, DeliverOptions, SmscField};
use dmnonce_push::wsp::{AppId, ContentType, Media, ParamName, ParamValue, Parameter};
use dmnonce_push::WspPush;

/// The three vectors of rust/proto/tests/vectors/package0.json.
const PACKAGE0: [(&str, &str); 3] = [
    (
        "public-stored",
        "cc6a83acbc1dabd527db6216ff2839ad02d000000001020e646d2e6578616d706c652e6e6574",
    ),
    (
        "public-default-text",
        "a96a2371f94b0fb7942fdf51385b137f02f00000000a0b0e646d2e6578616d706c652e6e6574",
    ),
    (
        "public-default-zero",
        "840bb97ef3c3994842121e56c140d98a0308000000fffe0e646d2e6578616d706c652e6e6574dead",
    ),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "rust/fuzz/seeds".into());
    let out = Path::new(&out);
    let write = |target: &str, name: &str, bytes: &[u8]| -> std::io::Result<()> {
        let dir = out.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes)
    };

    let pkg0: Vec<(&str, Vec<u8>)> = PACKAGE0
        .iter()
        .map(|(n, h)| Ok((*n, hex::decode(h)?)))
        .collect::<Result<_, hex::FromHexError>>()?;
    for (name, bytes) in &pkg0 {
        write("package0", name, bytes)?;
    }

    let body = &pkg0[0].1;
    let charset = ContentType::encode_parameters(&[Parameter {
        name: ParamName::WellKnown(1),
        value: ParamValue::Integer(106),
    }])?;
    let pushes = [
        ("canonical", WspPush::syncml_notification(1, body)),
        (
            "text-forms",
            WspPush::new(
                2,
                ContentType::text("application/vnd.syncml.notification"),
                Some(AppId::Text("x-wap-application:syncml.dm".into())),
                body.clone(),
            )?,
        ),
        (
            "general-form",
            WspPush::new(
                3,
                ContentType::general(Media::WellKnown(0x44), charset),
                Some(AppId::WellKnown(7)),
                body.clone(),
            )?,
        ),
        (
            "mms",
            WspPush::new(
                4,
                ContentType::short(0x3e),
                Some(AppId::WellKnown(4)),
                vec![0x8c, 0x82, 0x98],
            )?,
        ),
        (
            "no-app-id",
            WspPush::new(5, ContentType::syncml_notification(), None, body.clone())?,
        ),
    ];
    for (name, push) in &pushes {
        write("wsp_decode", name, &push.encode()?)?;
    }
    let mut confirmed = pushes[0].1.encode()?;
    confirmed[1] = 0x07;
    write("wsp_decode", "confirmed-push", &confirmed)?;

    // sms_reassembly framing: flags, then [len][delta seconds][pdu]...
    let frame = |smsc: bool, pdus: &[(&[u8], u8)]| {
        let mut v = vec![u8::from(smsc)];
        for (pdu, delta) in pdus {
            v.push(pdu.len() as u8);
            v.push(*delta);
            v.extend_from_slice(pdu);
        }
        v
    };
    let single = pushes[0].1.encode()?;
    let mut opts = DeliverOptions::new(Address::international("447700900123"), 0x2a);
    let one = encode_wap_push(&single, &opts, SmscField::Absent)?;
    write(
        "sms_reassembly",
        "single-bare",
        &frame(false, &[(&one[0], 0)]),
    )?;
    opts.smsc = Some(Address::international("447785016005"));
    let one_smsc = encode_wap_push(&single, &opts, SmscField::Included)?;
    write(
        "sms_reassembly",
        "single-with-smsc",
        &frame(true, &[(&one_smsc[0], 0)]),
    )?;

    let mut big_body = body.clone();
    big_body.extend((0..300).map(|i| i as u8));
    let big = WspPush::syncml_notification(9, &big_body).encode()?;
    opts.smsc = None;
    let three = encode_wap_push(&big, &opts, SmscField::Absent)?;
    write(
        "sms_reassembly",
        "three-parts-shuffled-dup",
        &frame(
            false,
            &[
                (&three[2], 0),
                (&three[0], 1),
                (&three[0], 1),
                (&three[1], 2),
            ],
        ),
    )?;
    let mut wide = DeliverOptions::new(Address::alphanumeric("DMserver"), 0x1234);
    wide.wide_reference = true;
    let two = encode_wap_push(&big[..200], &wide, SmscField::Absent)?;
    write(
        "sms_reassembly",
        "wide-ref-with-expire",
        &frame(false, &[(&two[0], 0), (&[], 90), (&two[1], 1)]),
    )?;
    Ok(())
}
