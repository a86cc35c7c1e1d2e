package org.changeq.pipeline.config;

import java.time.DayOfWeek;
import java.time.LocalDate;
import java.util.Set;

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
}
