package org.changeq.pipeline.manifest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Recognises a queue whose disk is full in a failure to read or write it, and says so in one sentence. Chronicle
 * maps its files sparse: a page the file system cannot back raises SIGBUS in whichever thread touches it, reader or
 * writer, and the JVM reports that as an {@link InternalError} ("a fault occurred in a recent unsafe memory access
 * operation"), with nothing to tell that a disk is full; a write through a file channel fails with ENOSPC ("No space
 * left on device"). Stateless; any thread.
 */
public final class QueueDiskFull {

    private static final String MAPPED_PAGE_FAULT = "unsafe memory access";
    private static final String NO_SPACE = "No space left on device";
    /** Less free space than this on the queue's file system is a full disk for the tracker. */
    public static final long FULL_BELOW_BYTES = 1024 * 1024;

    private QueueDiskFull() {
    }

    /**
     * One sentence naming the queue, its free space and the fix, when {@code failure} (or a cause of it) is a full
     * or failing disk under {@code queue}; empty for any other failure.
     */
    public static Optional<String> explain(Path queue, Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            String message = String.valueOf(cause.getMessage());
            if (cause instanceof InternalError && message.contains(MAPPED_PAGE_FAULT)
                    || cause instanceof IOException && message.contains(NO_SPACE)) {
                return Optional.of(sentence(queue, "is full or failing", freeSpace(queue)));
            }
        }
        return Optional.empty();
    }

    /**
     * One sentence when the file system holding {@code queue} has less than {@link #FULL_BELOW_BYTES} free, which
     * is too little for the tracker to append (Chronicle extends its files a chunk at a time); empty otherwise.
     */
    public static Optional<String> ifFull(Path queue) {
        try {
            long free = Files.getFileStore(queue).getUsableSpace();
            return free < FULL_BELOW_BYTES ? Optional.of(sentence(queue, "is full", free + " bytes free"))
                    : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static String sentence(Path queue, String condition, String freeSpace) {
        return "the file system holding the queue " + queue + " " + condition + " (" + freeSpace + "), so the tracker "
                + "cannot append to it; free space there or move the queue to a larger disk, then start the tracker "
                + "again, whose catch-up scan covers what was not recorded";
    }

    private static String freeSpace(Path queue) {
        try {
            return Files.getFileStore(queue).getUsableSpace() + " bytes free";
        } catch (IOException e) {
            return "free space unknown: " + e.getMessage();
        }
    }
}
