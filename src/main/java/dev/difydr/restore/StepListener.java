package dev.difydr.restore;

/** Told when each step of a restore or drill begins and ends; a listener that throws fails the run at that point. */
public interface StepListener {
    StepListener NONE = new StepListener() {
    };

    default void before(String step) {
    }

    default void after(String step) {
    }
}
