//! The small fields of the Package #0 header word (OMA-TS-DM_Notification-V1_2 §6.2).

/// The version the change request makes mandatory for servers
/// (SCR-DM-NOTI-S-003: binary `0000001011`).
pub const VERSION_11: u16 = 11;

/// A version some servers are reported to send; accepted on decode.
pub const VERSION_12: u16 = 12;

/// Versions this crate decodes and encodes.
pub const SUPPORTED_VERSIONS: [u16; 2] = [VERSION_11, VERSION_12];

/// Whether `version` is one this crate decodes and encodes.
pub fn is_supported_version(version: u16) -> bool {
    SUPPORTED_VERSIONS.contains(&version)
}

/// The 2-bit ui-mode: how the server proposes the session be shown to the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UiMode {
    /// 0: not specified.
    NotSpecified,
    /// 1: background, no user interaction.
    Background,
    /// 2: informative, the user is told.
    Informative,
    /// 3: user interaction, the user is asked.
    UserInteraction,
}

impl UiMode {
    /// The value of the low two bits of `bits`.
    pub fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0 => Self::NotSpecified,
            1 => Self::Background,
            2 => Self::Informative,
            _ => Self::UserInteraction,
        }
    }

    /// The 2-bit wire value.
    pub fn bits(self) -> u8 {
        match self {
            Self::NotSpecified => 0,
            Self::Background => 1,
            Self::Informative => 2,
            Self::UserInteraction => 3,
        }
    }
}

/// The 1-bit initiator field.
///
/// The specification text reads 0 = server-initiated, 1 = user-initiated;
/// libdmclient defines the opposite constants (but never uses them), so the
/// meaning is unsure. dmnonce exposes the bit and never acts on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Initiator {
    /// Bit value 0 (server-initiated, per the specification text).
    Server,
    /// Bit value 1 (user-initiated, per the specification text).
    User,
}

impl Initiator {
    /// The value of the lowest bit of `bit`.
    pub fn from_bit(bit: u8) -> Self {
        if bit & 1 == 0 {
            Self::Server
        } else {
            Self::User
        }
    }

    /// The 1-bit wire value.
    pub fn bit(self) -> u8 {
        match self {
            Self::Server => 0,
            Self::User => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_mode_bits_round_trip() {
        for bits in 0..4u8 {
            assert_eq!(UiMode::from_bits(bits).bits(), bits);
        }
        assert_eq!(UiMode::from_bits(1), UiMode::Background);
        assert_eq!(UiMode::from_bits(3), UiMode::UserInteraction);
    }

    #[test]
    fn initiator_bit_round_trip() {
        assert_eq!(Initiator::from_bit(0), Initiator::Server);
        assert_eq!(Initiator::from_bit(1), Initiator::User);
        assert_eq!(Initiator::User.bit(), 1);
        assert_eq!(Initiator::Server.bit(), 0);
    }

    #[test]
    fn only_versions_11_and_12_are_supported() {
        assert!(is_supported_version(11));
        assert!(is_supported_version(12));
        assert!(!is_supported_version(10));
        assert!(!is_supported_version(13));
        assert!(!is_supported_version(0));
    }
}
