package dev.difydr.schedule;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.Config;
import dev.difydr.config.ScheduleConfig;
import dev.difydr.observe.Metrics;
import dev.difydr.source.postgres.PostgresConnector;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TimeZone;
import java.util.concurrent.CountDownLatch;
import org.quartz.CronScheduleBuilder;
import org.quartz.CronTrigger;
import org.quartz.JobBuilder;
import org.quartz.JobDetail;
import org.quartz.JobKey;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.Trigger;
import org.quartz.TriggerBuilder;
import org.quartz.TriggerKey;
import org.quartz.impl.StdSchedulerFactory;
import org.quartz.impl.matchers.GroupMatcher;
import org.quartz.utils.ConnectionProvider;
import org.quartz.utils.DBConnectionManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The long-running scheduler: a Quartz scheduler holding one job per enabled schedule (its JobStore in memory, or
 * clustered in PostgreSQL), the HTTP endpoints when {@code metrics.port} is set, and the orderly stop: no new fires,
 * running jobs get {@code schedule.gracePeriod} to finish, then SIGTERM.
 */
public final class SchedulerProcess implements AutoCloseable {
    static final String GROUP = "dify-dr";
    private static final String DATA_SOURCE = "difydr";
    /** How long a job stopped with SIGTERM may take to abort before it is killed. */
    private static final Duration TERM_WAIT = Duration.ofMinutes(2);
    private static final Logger log = LoggerFactory.getLogger(SchedulerProcess.class);

    private final Config config;
    private final List<Schedule> schedules;
    private final JobProcess jobs;
    private final Metrics metrics;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private Scheduler quartz;
    private HikariDataSource dataSource;
    private StatusServer status;
    private boolean stopping;

    public SchedulerProcess(Config config, List<Schedule> schedules, JobProcess jobs, Metrics metrics) {
        this.config = config;
        this.schedules = List.copyOf(schedules);
        this.jobs = jobs;
        this.metrics = metrics;
    }

    /** The Quartz scheduler name: one per deployment, shared by every replica of a clustered JobStore. */
    public static String schedulerName(Config config) {
        return "dify-dr-" + config.deployment();
    }

    public void start() {
        ScheduleConfig sc = config.schedule();
        int enabled = (int) schedules.stream().filter(Schedule::enabled).count();
        Properties p = new Properties();
        p.setProperty(StdSchedulerFactory.PROP_SCHED_INSTANCE_NAME, schedulerName(config));
        p.setProperty("org.quartz.threadPool.class", "org.quartz.simpl.SimpleThreadPool");
        p.setProperty("org.quartz.threadPool.threadCount", String.valueOf(Math.max(1, enabled)));
        p.setProperty("org.quartz.jobStore.misfireThreshold", "60000");
        if (sc.clustered()) {
            dataSource = openDataSource(sc.jdbc(), enabled);
            DBConnectionManager.getInstance().addConnectionProvider(DATA_SOURCE, new ConnectionProvider() {
                @Override
                public Connection getConnection() throws SQLException {
                    return dataSource.getConnection();
                }

                @Override
                public void shutdown() {
                    dataSource.close();
                }

                @Override
                public void initialize() {
                }
            });
            p.setProperty(StdSchedulerFactory.PROP_SCHED_INSTANCE_ID, instanceId());
            p.setProperty(StdSchedulerFactory.PROP_JOB_STORE_CLASS, "org.quartz.impl.jdbcjobstore.JobStoreTX");
            p.setProperty("org.quartz.jobStore.driverDelegateClass", "org.quartz.impl.jdbcjobstore.PostgreSQLDelegate");
            p.setProperty("org.quartz.jobStore.dataSource", DATA_SOURCE);
            p.setProperty("org.quartz.jobStore.tablePrefix", "QRTZ_");
            p.setProperty("org.quartz.jobStore.isClustered", "true");
            p.setProperty("org.quartz.jobStore.clusterCheckinInterval", "10000");
            p.setProperty("org.quartz.jobStore.useProperties", "true");
        } else {
            p.setProperty(StdSchedulerFactory.PROP_JOB_STORE_CLASS, "org.quartz.simpl.RAMJobStore");
        }
        try {
            quartz = new StdSchedulerFactory(p).getScheduler();
            quartz.setJobFactory((bundle, scheduler) -> new ScheduledRun(jobs));
            synchronize();
            if (config.metrics().port() != null) {
                status = new StatusServer(config.metrics().port(), this::healthy, metrics::scrape);
                log.info("serving /healthz and /metrics on port {}", status.port());
            }
            quartz.start();
        } catch (SchedulerException e) {
            close();
            throw new DrException(Failure.INTERNAL, "cannot start the scheduler: " + e.getMessage(), e);
        } catch (IOException e) {
            close();
            throw new DrException(Failure.CONFIG, "metrics.port: cannot serve on port " + config.metrics().port() + ": " + e.getMessage(), e);
        }
        log.info("scheduler {} started with {} of {} schedules ({} job store{})", schedulerName(config), enabled, schedules.size(),
                sc.jobStore(), sc.clustered() ? " on " + sc.jdbc().host() + ":" + sc.jdbc().port() + "/" + sc.jdbc().database() : "");
        for (Schedule s : schedules) {
            if (s.enabled()) {
                log.info("schedule {}: {} at '{}' ({}), next {}", s.name(), String.join(" ", s.arguments()), s.cron(), s.zone(),
                        s.cron().next(s.zone(), java.time.Instant.now(), 1).stream().findFirst().map(Object::toString).orElse("never"));
            }
        }
    }

    /**
     * This scheduler's id in the cluster. Quartz's own AUTO id is host name and start time, which two schedulers started in
     * the same millisecond on one host share; two members with one id each take the other's check-in for their own.
     */
    private static String instanceId() {
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.net.UnknownHostException e) {
                host = "unknown-host";
            }
        }
        return host + "-" + ProcessHandle.current().pid() + "-" + System.currentTimeMillis();
    }

    /** For {@code config check}: reaches the clustered JobStore's database and says what it holds. */
    public static String checkJobStore(Config config) {
        ScheduleConfig.JdbcStore j = config.schedule().jdbc();
        PostgresConnector connector = new PostgresConnector(j.server());
        try (Connection c = connector.connect(j.database())) {
            String where = "PostgreSQL " + PostgresConnector.serverVersion(c) + " at " + connector.where() + ", database '" + j.database() + "'";
            int missing = QuartzTables.missingTables(c);
            if (missing == QuartzTables.TABLES.size()) {
                return where + ": Quartz's tables are not there yet; the first start of `schedule` creates them (user '"
                        + j.user() + "' needs CREATE in the database)";
            }
            if (missing > 0) {
                return where + ": " + missing + " of Quartz's " + QuartzTables.TABLES.size() + " tables missing; the next start of `schedule` creates them";
            }
            try (java.sql.PreparedStatement q = c.prepareStatement("SELECT count(*) FROM qrtz_scheduler_state WHERE sched_name = ?")) {
                q.setString(1, schedulerName(config));
                try (java.sql.ResultSet rs = q.executeQuery()) {
                    rs.next();
                    return where + ": Quartz's tables present; " + rs.getInt(1) + " scheduler instance(s) of " + schedulerName(config) + " checked in";
                }
            }
        } catch (SQLException e) {
            throw connector.unreachable(j.database(), e);
        }
    }

    private HikariDataSource openDataSource(ScheduleConfig.JdbcStore j, int threads) {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName("quartz-jobstore");
        String host = j.host().contains(":") && !j.host().startsWith("[") ? "[" + j.host() + "]" : j.host();
        hc.setJdbcUrl("jdbc:postgresql://" + host + ":" + j.port() + "/" + j.database());
        hc.addDataSourceProperty("connectTimeout", "10");
        hc.setUsername(j.user());
        if (j.password() != null) {
            hc.setPassword(j.password().reveal());
        }
        hc.addDataSourceProperty("sslmode", j.sslmode());
        hc.addDataSourceProperty("ApplicationName", "dify-dr schedule");
        // Quartz: one connection per worker thread, plus the scheduler thread and the cluster manager
        hc.setMaximumPoolSize(threads + 3);
        hc.setMinimumIdle(1);
        String where = j.host() + ":" + j.port() + "/" + j.database() + " as user '" + j.user() + "'";
        try {
            HikariDataSource ds = new HikariDataSource(hc);
            try {
                if (QuartzTables.ensure(ds, schedulerName(config))) {
                    log.info("created Quartz's tables in {}", where);
                }
            } catch (SQLException | RuntimeException e) {
                ds.close();
                throw e;
            }
            return ds;
        } catch (SQLException | RuntimeException e) {
            throw new DrException(Failure.SOURCE, "the schedule's job store " + where + " failed: " + e.getMessage()
                    + "; check schedule.jdbc (and that the user may create tables there, or that Quartz's tables exist)", e);
        }
    }

    /**
     * Makes the job store hold exactly the enabled schedules: a trigger whose cron, zone, misfire policy or command
     * changed is replaced, an unchanged one is kept (so that its misfires are still seen), and a job no file names any
     * more is deleted.
     */
    private void synchronize() throws SchedulerException {
        Set<String> wanted = new HashSet<>();
        for (Schedule s : schedules) {
            if (s.enabled()) {
                wanted.add(s.name());
            }
        }
        for (JobKey key : quartz.getJobKeys(GroupMatcher.jobGroupEquals(GROUP))) {
            if (!wanted.contains(key.getName())) {
                quartz.deleteJob(key);
                log.info("schedule {}: removed from the job store (no enabled schedule file names it)", key.getName());
            }
        }
        for (Schedule s : schedules) {
            if (!s.enabled()) {
                continue;
            }
            JobDetail job = JobBuilder.newJob(ScheduledRun.class).withIdentity(s.name(), GROUP)
                    .withDescription(String.join(" ", s.arguments()))
                    .usingJobData(ScheduledRun.SCHEDULE, s.name())
                    .usingJobData(ScheduledRun.JOB, s.job().command())
                    .usingJobData(ScheduledRun.ARGUMENTS, ScheduledRun.encode(s.arguments()))
                    .build();
            CronScheduleBuilder cron = CronScheduleBuilder.cronSchedule(s.cron().expression(s.zone()))
                    .inTimeZone(TimeZone.getTimeZone(s.zone()));
            cron = switch (s.misfire()) {
                case FIRE_ONCE_NOW -> cron.withMisfireHandlingInstructionFireAndProceed();
                case SKIP -> cron.withMisfireHandlingInstructionDoNothing();
                case FIRE_ALL -> cron.withMisfireHandlingInstructionIgnoreMisfires();
            };
            Trigger trigger = TriggerBuilder.newTrigger().withIdentity(s.name(), GROUP).forJob(job.getKey()).withSchedule(cron).build();
            if (unchanged(s, job)) {
                log.debug("schedule {}: unchanged in the job store", s.name());
                continue;
            }
            quartz.scheduleJob(job, Set.of(trigger), true);
        }
    }

    private boolean unchanged(Schedule s, JobDetail job) throws SchedulerException {
        Trigger old = quartz.getTrigger(new TriggerKey(s.name(), GROUP));
        JobDetail oldJob = quartz.getJobDetail(job.getKey());
        return old instanceof CronTrigger ct && oldJob != null
                && ct.getCronExpression().equals(s.cron().quartz())
                && ct.getTimeZone().getID().equals(s.zone().getId())
                && ct.getMisfireInstruction() == s.misfire().quartzInstruction()
                && Objects.equals(oldJob.getJobDataMap().getWrappedMap(), job.getJobDataMap().getWrappedMap())
                && oldJob.getJobClass().equals(job.getJobClass());
    }

    /** Whether the scheduler takes fires: started, not in standby, not shut down. */
    public boolean healthy() {
        try {
            return quartz != null && quartz.isStarted() && !quartz.isInStandbyMode() && !quartz.isShutdown();
        } catch (SchedulerException e) {
            return false;
        }
    }

    /** The port of the HTTP endpoints, or -1 when they are off. */
    public int statusPort() {
        return status == null ? -1 : status.port();
    }

    /**
     * Runs until the process is told to stop (SIGTERM, SIGINT): then stops in order and ends the process with exit code
     * 0, since an orderly stop is a success.
     */
    public void runUntilSignal() {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            close();
            System.out.flush();
            System.err.flush();
            Runtime.getRuntime().halt(0);
        }, "schedule-stop"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The orderly stop: no new fires, running jobs finish within the grace period or get SIGTERM; then everything closes. */
    @Override
    public synchronized void close() {
        if (stopping) {
            return;
        }
        stopping = true;
        Duration grace = config.schedule().grace();
        try {
            if (quartz != null) {
                quartz.standby();
                log.info("stopping: no new fires; {}", jobs.busy() ? "running jobs get up to " + JobProcess.seconds(grace) + " to finish" : "no job is running");
                jobs.stopRunning(grace, TERM_WAIT);
                quartz.shutdown(true);
            }
        } catch (SchedulerException e) {
            log.error("stopping the scheduler: {}", e.getMessage());
        } finally {
            if (status != null) {
                status.close();
            }
            if (dataSource != null) {
                dataSource.close();
            }
            log.info("scheduler stopped");
            stopped.countDown();
        }
    }
}
