package org.changeq.pipeline.config;

import java.time.DayOfWeek;
import java.time.LocalDate;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.ToIntFunction;

/**
 * A calendar window in which a route owes one full sync (the old pipeline: days 1-7 of the month).
 * A date is in the window when it matches both sets; an empty set matches every day.
 *
 * @param daysOfMonth from {@code days-of-month: 1-7} (ranges and lists, 1..31)
 * @param daysOfWeek  from {@code days-of-week: [sun]} (mon..sun, ranges and lists)
 */
public record FullWindow(Set<Integer> daysOfMonth, Set<DayOfWeek> daysOfWeek) {

    public FullWindow {
        daysOfMonth = Set.copyOf(daysOfMonth);
        daysOfWeek = Set.copyOf(daysOfWeek);
    }

    public boolean contains(LocalDate date) {
        return (daysOfMonth.isEmpty() || daysOfMonth.contains(date.getDayOfMonth()))
                && (daysOfWeek.isEmpty() || daysOfWeek.contains(date.getDayOfWeek()));
    }

    /**
     * The days of one {@code days-of-month} entry: a day ({@code 15}) or a range ({@code 1-7}).
     *
     * @throws IllegalArgumentException naming the text and the accepted forms
     */
    static Set<Integer> daysOfMonth(String text) {
        int[] range = range(text, FullWindow::dayOfMonth);
        if (range[0] > range[1]) {
            throw new IllegalArgumentException("the range '" + text + "' runs backwards; write the smaller day first");
        }
        Set<Integer> days = new TreeSet<>();
        for (int d = range[0]; d <= range[1]; d++) {
            days.add(d);
        }
        return days;
    }

    /**
     * The days of one {@code days-of-week} entry: a day ({@code sun}, {@code Sunday}) or a range, which may wrap
     * ({@code fri-mon}).
     *
     * @throws IllegalArgumentException naming the text and the accepted forms
     */
    static Set<DayOfWeek> daysOfWeek(String text) {
        int[] range = range(text, FullWindow::dayOfWeek);
        Set<DayOfWeek> days = EnumSet.noneOf(DayOfWeek.class);
        for (int d = range[0]; ; d = d % 7 + 1) {
            days.add(DayOfWeek.of(d));
            if (d == range[1]) {
                return days;
            }
        }
    }

    private static int[] range(String text, ToIntFunction<String> day) {
        int dash = text.indexOf('-', 1);
        if (dash < 0) {
            int single = day.applyAsInt(text);
            return new int[] {single, single};
        }
        return new int[] {day.applyAsInt(text.substring(0, dash).trim()), day.applyAsInt(text.substring(dash + 1).trim())};
    }

    private static int dayOfMonth(String text) {
        try {
            int day = Integer.parseInt(text);
            if (day >= 1 && day <= 31) {
                return day;
            }
        } catch (NumberFormatException e) {
            // reported below with the accepted forms
        }
        throw new IllegalArgumentException("'" + text + "' is not a day of the month (1-31); write e.g. 1-7 or [1, 15-16]");
    }

    private static int dayOfWeek(String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        for (DayOfWeek day : DayOfWeek.values()) {
            String full = day.name().toLowerCase(Locale.ROOT);
            if (lower.equals(full) || lower.equals(full.substring(0, 3))) {
                return day.getValue();
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not a day of the week; write mon, tue, wed, thu, fri, sat,"
                + " sun, a range like mon-fri, or a list like [sat, sun]");
    }
}
