package org.changeq.pipeline.testing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.slf4j.event.Level;

/**
 * A WARN or ERROR the test means to cause. {@link StrayThreadsAndLogsExtension} fails a test that logs any other,
 * and a test method whose expected message never comes: a test that proves a failure is reported proves it with
 * the report. On a class, the message is allowed in each of its tests (and their set-up) but required in none.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
@Repeatable(ExpectLog.List.class)
public @interface ExpectLog {

    /** WARN or ERROR. */
    Level level();

    /** The logger's name, or its last part: {@code "TreeWatcher"} matches {@code org.changeq.tracker.TreeWatcher}. */
    String logger();

    /** Text the formatted message contains; empty for any message of that logger and level. */
    String contains() default "";

    /** Several expected messages. */
    @Documented
    @Retention(RetentionPolicy.RUNTIME)
    @Target({ElementType.METHOD, ElementType.TYPE})
    @interface List {
        ExpectLog[] value();
    }
}
