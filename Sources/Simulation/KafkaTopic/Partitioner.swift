/// Kafka's key partitioner (K-PART-01): `toPositive(murmur2(keyBytes)) % numPartitions`, with the
/// 32-bit MurmurHash2 variant of `org.apache.kafka.common.utils.Utils.murmur2` (seed 0x9747b28c).
/// The same key lands on the same partition only while the partition count the producer knows
/// stays the same (K-PART-04).
public enum KafkaPartitioner {
    /// Utils.murmur2 over the key's UTF-8 bytes, as a signed 32-bit value like Java's.
    public static func murmur2(_ key: String) -> Int32 {
        let data = Array(key.utf8)
        let length = data.count
        let m: UInt32 = 0x5bd1_e995
        let r: UInt32 = 24
        var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: length)
        let blocks = length / 4
        for block in 0..<blocks {
            let i = block * 4
            var k =
                UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16
                | UInt32(data[i + 3]) << 24
            k &*= m
            k ^= k >> r
            k &*= m
            h &*= m
            h ^= k
        }
        let tail = blocks * 4
        switch length % 4 {
        case 3:
            h ^= UInt32(data[tail + 2]) << 16
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h &*= m
        case 2:
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h &*= m
        case 1:
            h ^= UInt32(data[tail])
            h &*= m
        default: break
        }
        h ^= h >> 13
        h &*= m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// The partition of a keyed record among `partitions`.
    public static func partition(forKey key: String, partitions: Int) -> Int {
        Int(UInt32(bitPattern: murmur2(key)) & 0x7fff_ffff) % partitions
    }
}
