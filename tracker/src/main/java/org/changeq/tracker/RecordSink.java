package org.changeq.tracker;

import org.changeq.pipeline.manifest.RecordType;

/** Where the watch logic sends records: the manifest writer, or a list in unit tests. Producer thread only. */
interface RecordSink {
    void publish(RecordType type, String root, boolean directory, byte[] path);

    /** A CHANGE of a file whose content was written, or that newly has content at its name. */
    void publishContentWrite(String root, byte[] path);

    /** A CHANGE; of a file whose content was written when {@code contentWritten}. */
    default void publishChange(String root, boolean directory, boolean contentWritten, byte[] path) {
        if (contentWritten) {
            publishContentWrite(root, path);
        } else {
            publish(RecordType.CHANGE, root, directory, path);
        }
    }

    void publishMarker(RecordType type, String root);
}
