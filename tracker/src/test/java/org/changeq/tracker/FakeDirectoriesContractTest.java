package org.changeq.tracker;

import java.util.List;

/** The fake the watcher's tests use keeps the contract the real kernel is held to in native-tests. */
class FakeDirectoriesContractTest extends DirectoryWatchesContract {

    private static final String ROOT = "/contract";

    private final FakeDirectories kernel = new FakeDirectories(ROOT);

    @Override
    DirectoryWatches watches() {
        return kernel;
    }

    @Override
    String root() {
        return ROOT;
    }

    @Override
    void mkdir(String path) {
        kernel.mkdir(ROOT + "/" + path);
    }

    @Override
    void createFile(String path) {
        kernel.touch(ROOT + "/" + path);
    }

    @Override
    void rename(String from, String to) {
        kernel.rename(ROOT + "/" + from, ROOT + "/" + to);
    }

    @Override
    void remove(String path) {
        kernel.remove(ROOT + "/" + path);
    }

    @Override
    List<Event> takeEvents() {
        Collector collector = new Collector();
        kernel.deliverEvents(collector);
        return collector.events;
    }

    @Override
    void awaitChangeTimeAfter(long changeTimeMillis) {
        // The fake stamps changes with the wall clock in milliseconds: at most a millisecond to wait.
        while (System.currentTimeMillis() <= changeTimeMillis) {
            Thread.onSpinWait();
        }
    }
}
