package io.nfqueue;

/** {@link Ticker#system()}: one instance, so that code can tell the default from a test's clock. */
enum SystemTicker implements Ticker {
    INSTANCE;

    @Override
    public long read() {
        return System.nanoTime();
    }

    @Override
    public String toString() {
        return "Ticker.system()";
    }
}
