package org.dmnonce;

import java.util.ArrayList;
import java.util.List;
import org.junit.runner.Description;
import org.junit.runner.JUnitCore;
import org.junit.runner.Result;
import org.junit.runner.notification.Failure;
import org.junit.runner.notification.RunListener;

/**
 * Runs the JUnit classes named on the command line and prints one line per
 * test (pass, FAIL, SKIP with its reason), so a skipped test (e.g. no daemon
 * binary yet) is reported as loudly as a failure, and a summary. Exit status
 * 1 when anything failed, or when anything was skipped and the environment
 * sets {@code DMNONCE_JVM_REQUIRE_ALL=1} (the suite script does once the
 * daemon binaries build, so a skip cannot hide a regression in CI).
 */
public final class JvmSuite {
    private JvmSuite() {}

    public static void main(String[] args) throws ClassNotFoundException {
        List<Class<?>> classes = new ArrayList<>();
        for (String name : args) {
            classes.add(Class.forName(name));
        }
        final List<String> skipped = new ArrayList<>();
        JUnitCore core = new JUnitCore();
        core.addListener(new RunListener() {
            private boolean reported;

            @Override
            public void testStarted(Description d) {
                reported = false;
            }

            @Override
            public void testFailure(Failure f) {
                reported = true;
                System.out.println("FAIL " + name(f.getDescription()));
                System.out.println(f.getTrace());
            }

            @Override
            public void testAssumptionFailure(Failure f) {
                reported = true;
                String line = name(f.getDescription()) + ": " + f.getMessage();
                skipped.add(line);
                System.out.println("SKIP " + line);
            }

            @Override
            public void testFinished(Description d) {
                if (!reported) {
                    System.out.println("ok   " + name(d));
                }
            }
        });
        Result result = core.run(classes.toArray(new Class<?>[0]));
        System.out.printf("%nJUnit: %d run, %d failed, %d skipped, %.1f s%n", result.getRunCount(),
                result.getFailureCount(), skipped.size(), result.getRunTime() / 1000.0);
        for (String s : skipped) {
            System.out.println("  skipped: " + s);
        }
        boolean requireAll = "1".equals(System.getenv("DMNONCE_JVM_REQUIRE_ALL"));
        if (requireAll && !skipped.isEmpty()) {
            System.out.println("JUnit: skips are failures here (DMNONCE_JVM_REQUIRE_ALL=1)");
        }
        System.exit(result.wasSuccessful() && !(requireAll && !skipped.isEmpty()) ? 0 : 1);
    }

    private static String name(Description d) {
        if (d.getTestClass() == null) {
            return d.getDisplayName();
        }
        String method = d.getMethodName() == null ? "(all tests)" : d.getMethodName();
        return d.getTestClass().getSimpleName() + "." + method;
    }
}
