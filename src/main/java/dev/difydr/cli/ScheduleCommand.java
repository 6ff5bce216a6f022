package dev.difydr.cli;

import dev.difydr.config.Config;
import dev.difydr.observe.Metrics;
import dev.difydr.schedule.JobProcess;
import dev.difydr.schedule.Schedule;
import dev.difydr.schedule.ScheduleListing;
import dev.difydr.schedule.ScheduleLoader;
import dev.difydr.schedule.SchedulerProcess;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "schedule", description = {
        "Run the schedules of a directory with Quartz until stopped: each fire runs its job (backup, verify, drill, prune) as a"
                + " child process. SIGTERM stops new fires, lets a running job finish within schedule.gracePeriod, then stops it.",
        "With --list: print each schedule and its next five fire times, and exit."})
final class ScheduleCommand implements Callable<Integer> {
    @ParentCommand
    Cli cli;

    @Option(names = "--schedules", paramLabel = "DIR", description = "Directory of schedule files (*.yaml), one schedule each (default: ./schedules).")
    Path schedules = Path.of("schedules");

    @Option(names = "--list", description = "Print the schedules with their next five fire times in their time zones; start nothing.")
    boolean list;

    @Override
    public Integer call() {
        List<Schedule> loaded = new ScheduleLoader().load(schedules);
        if (list) {
            cli.print(ScheduleListing.of(loaded, Instant.now(), 5));
            return 0;
        }
        Config config = cli.loadConfig();
        Metrics metrics = new Metrics();
        JobProcess jobs = new JobProcess(JobProcess.javaOfThisProcess(System.getenv()), cli.configPath(), config.deployment(), metrics,
                Clock.systemUTC());
        SchedulerProcess scheduler = new SchedulerProcess(config, loaded, jobs, metrics);
        scheduler.start();
        scheduler.runUntilSignal();
        return 0;
    }
}
