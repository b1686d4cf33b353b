package io.trisync;

import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Remembers which signal stopped the process (SIGTERM from an orchestrator, SIGINT from Ctrl-C,
 * SIGHUP from a closed terminal), so that the operations a stopping node ends say so: a JVM shutdown
 * hook is not told why it runs. Each handler records the signal and hands it to the JVM's own
 * handler, which starts the shutdown as before (exit status 128 + the signal's number).
 */
final class StopSignals {

    private static final Logger LOG = LoggerFactory.getLogger(StopSignals.class);
    private static final List<String> STOPPING = List.of("TERM", "INT", "HUP");
    private static volatile String received;

    private StopSignals() {}

    /** Installs the recording handlers; a signal the JVM does not let us handle (-Xrs) is left as it is. */
    static void record() {
        for (String name : STOPPING) {
            try {
                Signal signal = new Signal(name);
                SignalHandler[] previous = new SignalHandler[1];
                previous[0] = Signal.handle(signal, s -> {
                    received = "SIG" + s.getName();
                    previous[0].handle(s);
                });
                if (previous[0] == SignalHandler.SIG_IGN || previous[0] == SignalHandler.SIG_DFL) {
                    // Ignored at start (nohup) or without the JVM's handler: left as it was, since
                    // the native dispositions cannot be called from here.
                    Signal.handle(signal, previous[0]);
                }
            } catch (IllegalArgumentException | IllegalStateException e) {
                LOG.debug("SIG{} is not recorded: {}", name, e.getMessage());
            }
        }
    }

    /** The signal that stopped the process ({@code SIGTERM}), or null when none did (System.exit). */
    static String received() {
        return received;
    }
}
