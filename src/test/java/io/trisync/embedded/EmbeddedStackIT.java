package io.trisync.embedded;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trisync.config.ConfigException;
import io.trisync.testsupport.TestStack;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The embedded stack's own account of a port it cannot bind, for a port taken after the node's preflight. */
@Timeout(120)
class EmbeddedStackIT {

    @Test
    @DisplayName("An embedded server whose port another process holds fails naming its key and port")
    void portInUseNamesTheKey() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.1", 0));
            int port = taken.getLocalPort();
            var config =
                    TestStack.config(Map.of("EMBEDDED_PERSIST", "false", "EMBEDDED_S3_PORT", String.valueOf(port)));
            assertThatThrownBy(() -> EmbeddedStack.start(config).close())
                    .isInstanceOf(ConfigException.class)
                    .hasMessage("EMBEDDED_S3_PORT " + port + " is in use by another process");
        }
    }
}
