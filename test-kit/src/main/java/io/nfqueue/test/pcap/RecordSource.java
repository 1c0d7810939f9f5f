package io.nfqueue.test.pcap;

import java.io.IOException;
import java.util.List;

/** One format's parser behind {@link CaptureReader}, positioned after the file's magic number. */
interface RecordSource {
    /** The next packet record, skipping blocks that hold none; null at a clean end of the file. */
    CaptureRecord next() throws IOException;

    /** The interfaces of the current section described so far. */
    List<CaptureInterface> interfaces();
}
