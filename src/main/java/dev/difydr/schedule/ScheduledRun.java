package dev.difydr.schedule;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.difydr.repository.Json;
import java.io.IOException;
import java.util.List;
import org.quartz.DisallowConcurrentExecution;
import org.quartz.Job;
import org.quartz.JobDataMap;
import org.quartz.JobExecutionContext;

/**
 * The Quartz job of every schedule: runs the command line stored with the job as a child process. A schedule never
 * overlaps itself; a fire that comes while the previous run still goes waits for it (and may then misfire).
 */
@DisallowConcurrentExecution
final class ScheduledRun implements Job {
    static final String SCHEDULE = "schedule";
    static final String JOB = "job";
    static final String ARGUMENTS = "arguments";

    private final JobProcess process;

    ScheduledRun(JobProcess process) {
        this.process = process;
    }

    static String encode(List<String> arguments) {
        try {
            return Json.MAPPER.writeValueAsString(arguments);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<String> decode(String arguments) {
        try {
            return Json.MAPPER.readValue(arguments, new TypeReference<List<String>>() { });
        } catch (IOException e) {
            throw new IllegalStateException("stored job arguments are not a JSON list: " + arguments, e);
        }
    }

    @Override
    public void execute(JobExecutionContext context) {
        JobDataMap data = context.getMergedJobDataMap();
        process.run(data.getString(SCHEDULE), data.getString(JOB), decode(data.getString(ARGUMENTS)),
                context.getScheduledFireTime().toInstant());
    }
}
