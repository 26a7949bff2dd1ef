//! MurmurHash3 (x86, 32-bit) over the UTF-8 bytes of several pieces read as one string, so
//! `"{groupId}:{id}"` is hashed without building the string. Unleash's clients bucket users
//! with this hash; using the same one keeps a migrated user in the same bucket.

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

/// Hashes the concatenation of `parts` with `seed`.
pub fn murmur3_x86_32(parts: &[&[u8]], seed: u32) -> u32 {
    let mut h = seed;
    let mut block = [0u8; 4];
    let mut filled = 0;
    let mut len: usize = 0;
    for part in parts {
        for &b in *part {
            block[filled] = b;
            filled += 1;
            if filled == 4 {
                h ^= mix_k(u32::from_le_bytes(block));
                h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
                filled = 0;
            }
        }
        len += part.len();
    }
    if filled > 0 {
        let mut k = 0u32;
        for i in (0..filled).rev() {
            k = (k << 8) | u32::from(block[i]);
        }
        h ^= mix_k(k);
    }
    // The reference folds the length in as a 32-bit value.
    h ^= len as u32;
    fmix32(h)
}

fn mix_k(k: u32) -> u32 {
    k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
}

fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h
}

/// Unleash's `normalizedHash`: `murmur3("{group}:{id}", seed) % normalizer + 1`, in `1..=normalizer`.
pub fn normalized_hash(group: &str, id: &str, seed: u32, normalizer: u32) -> u32 {
    murmur3_x86_32(&[group.as_bytes(), b":", id.as_bytes()], seed) % normalizer + 1
}

/// The seed Unleash uses when picking a weighted variant.
pub const VARIANT_SEED: u32 = 86_028_157;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_test_vectors() {
        // Vectors from the reference implementation's (smhasher) verification set.
        assert_eq!(murmur3_x86_32(&[b""], 0), 0);
        assert_eq!(murmur3_x86_32(&[b""], 1), 0x514e_28b7);
        assert_eq!(murmur3_x86_32(&[b""], 0xffff_ffff), 0x81f1_6f39);
        assert_eq!(murmur3_x86_32(&[&[0, 0, 0, 0]], 0), 0x2362_f9de);
        assert_eq!(murmur3_x86_32(&[b"aaaa"], 0x9747_b28c), 0x5a97_808a);
        assert_eq!(murmur3_x86_32(&[b"abc"], 0), 0xb3dd_93fa);
        assert_eq!(
            murmur3_x86_32(&[b"Hello, world!"], 0x9747_b28c),
            0x2488_4cba
        );
        assert_eq!(
            murmur3_x86_32(
                &[b"The quick brown fox jumps over the lazy dog"],
                0x9747_b28c
            ),
            0x2fa8_26cd
        );
    }

    #[test]
    fn pieces_hash_the_same_as_the_joined_string() {
        let joined = murmur3_x86_32(&[b"gr1:123"], 0);
        assert_eq!(murmur3_x86_32(&[b"gr1", b":", b"123"], 0), joined);
        assert_eq!(murmur3_x86_32(&[b"g", b"", b"r1:1", b"23"], 0), joined);
    }

    #[test]
    fn normalized_hash_agrees_with_unleash_clients() {
        // The values Unleash's client test suites assert.
        assert_eq!(normalized_hash("gr1", "123", 0, 100), 73);
        assert_eq!(normalized_hash("groupX", "999", 0, 100), 25);
        assert_eq!(normalized_hash("gr1", "123", VARIANT_SEED, 100), 96);
        assert_eq!(normalized_hash("groupX", "999", VARIANT_SEED, 100), 60);
        assert_eq!(
            normalized_hash("Feature.flexibleRollout.10", "174", 0, 100),
            10
        );
        assert_eq!(
            normalized_hash("Feature.flexibleRollout.10", "499", 0, 100),
            32
        );
        assert_eq!(normalized_hash("a", "5", VARIANT_SEED, 2), 1);
        assert_eq!(normalized_hash("a", "0", VARIANT_SEED, 2), 2);
    }
}
