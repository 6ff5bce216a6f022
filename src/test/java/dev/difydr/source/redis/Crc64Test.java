package dev.difydr.source.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class Crc64Test {
    @Test
    void matchesTheCheckValueInRedisSources() {
        // crc64.c in Redis: crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9ca
        assertThat(Crc64.of("123456789".getBytes(StandardCharsets.US_ASCII))).isEqualTo(0xe9c6d914c4b8d9caL);
    }

    @Test
    void updatesInPiecesLikeInOneGo() {
        byte[] data = "The quick brown fox jumps over the lazy dog".getBytes(StandardCharsets.US_ASCII);
        long whole = Crc64.of(data);
        long pieces = Crc64.update(Crc64.update(0, data, 0, 10), data, 10, data.length - 10);
        assertThat(pieces).isEqualTo(whole).isNotZero();
    }
}
