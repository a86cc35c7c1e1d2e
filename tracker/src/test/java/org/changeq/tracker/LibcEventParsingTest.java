package org.changeq.tracker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import org.junit.jupiter.api.Test;

/** Decoding of hand-built {@code struct inotify_event} buffers, as the kernel lays them out. */
class LibcEventParsingTest {

    // <sys/inotify.h>: the kernel ABI, repeated here on purpose.
    private static final int IN_MODIFY = 0x2;
    private static final int IN_CLOSE_WRITE = 0x8;
    private static final int IN_MOVED_FROM = 0x40;
    private static final int IN_MOVED_TO = 0x80;
    private static final int IN_CREATE = 0x100;
    private static final int IN_DELETE_SELF = 0x400;
    private static final int IN_Q_OVERFLOW = 0x4000;
    private static final int IN_IGNORED = 0x8000;
    private static final int IN_ISDIR = 0x4000_0000;

    private record Event(int watch, EventKind kind, boolean directory, int cookie, byte[] name) {
    }

    private final ByteBuffer buffer = ByteBuffer.allocate(8192).order(ByteOrder.nativeOrder());

    /** Appends one event; the name is NUL-padded to a multiple of 16 bytes as the kernel does. */
    private void event(int watch, int mask, int cookie, byte[] name) {
        int padded = name.length == 0 ? 0 : (name.length / 16 + 1) * 16;
        buffer.putInt(watch).putInt(mask).putInt(cookie).putInt(padded);
        buffer.put(name);
        for (int i = name.length; i < padded; i++) {
            buffer.put((byte) 0);
        }
    }

    private List<Event> parse() {
        int length = buffer.position();
        Pointer memory = Memory.allocateDirect(Libc.RUNTIME, length);
        memory.put(0, buffer.array(), 0, length);
        List<Event> events = new ArrayList<>();
        Libc.parseEvents(memory, length, (watch, kind, directory, cookie, name) ->
                events.add(new Event(watch, kind, directory, cookie, name)));
        return events;
    }

    @Test
    void decodesSeveralEventsPerReadWithByteExactNames() {
        byte[] newline = "a\nb".getBytes();
        byte[] invalidUtf8 = {'x', (byte) 0xff, (byte) 0xc3, 'y'};
        byte[] exactlySixteen = "0123456789abcdef".getBytes();
        event(1, IN_CREATE, 0, newline);
        event(1, IN_MODIFY, 0, invalidUtf8);
        event(7, IN_CLOSE_WRITE, 0, exactlySixteen);

        List<Event> events = parse();

        assertEquals(3, events.size());
        assertEquals(EventKind.CREATE, events.get(0).kind);
        assertArrayEquals(newline, events.get(0).name);
        assertEquals(EventKind.MODIFY, events.get(1).kind);
        assertArrayEquals(invalidUtf8, events.get(1).name);
        assertEquals(7, events.get(2).watch);
        assertEquals(EventKind.CLOSE_WRITE, events.get(2).kind);
        assertArrayEquals(exactlySixteen, events.get(2).name);
    }

    @Test
    void decodesDirectoryFlagCookiesAndSelfEvents() {
        event(3, IN_MOVED_FROM | IN_ISDIR, 42, "old".getBytes());
        event(4, IN_MOVED_TO | IN_ISDIR, 42, "new".getBytes());
        event(5, IN_DELETE_SELF, 0, new byte[0]);
        event(5, IN_IGNORED, 0, new byte[0]);

        List<Event> events = parse();

        assertEquals(3, events.get(0).watch);
        assertEquals(EventKind.MOVED_FROM, events.get(0).kind);
        assertEquals(true, events.get(0).directory);
        assertEquals(42, events.get(0).cookie);
        assertArrayEquals("old".getBytes(), events.get(0).name);
        assertEquals(EventKind.MOVED_TO, events.get(1).kind);
        assertEquals(42, events.get(1).cookie);
        assertEquals(true, events.get(1).directory);
        assertArrayEquals("new".getBytes(), events.get(1).name);
        assertEquals(EventKind.DELETE_SELF, events.get(2).kind);
        assertEquals(0, events.get(2).name.length);
        assertEquals(EventKind.IGNORED, events.get(3).kind);
    }

    @Test
    void overflowCarriesNoWatch() {
        event(-1, IN_Q_OVERFLOW, 0, new byte[0]);
        event(2, IN_CREATE, 0, "after".getBytes());

        List<Event> events = parse();

        assertEquals(EventKind.OVERFLOW, events.get(0).kind);
        assertEquals(InotifyEventSink.NO_WATCH, events.get(0).watch);
        assertEquals(EventKind.CREATE, events.get(1).kind);
    }

    @Test
    void aMaximalNameFillsItsRecordWithoutPadding() {
        byte[] name = new byte[255];
        java.util.Arrays.fill(name, (byte) 'n');
        buffer.putInt(9).putInt(IN_CREATE).putInt(0).putInt(256).put(name).put((byte) 0);
        buffer.putInt(9).putInt(IN_CREATE).putInt(0).putInt(255).put(name);

        List<Event> events = parse();

        assertEquals(2, events.size());
        assertArrayEquals(name, events.get(0).name);
        assertArrayEquals(name, events.get(1).name);
    }
}
