package sou.scaleout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

/**
 * One real OpenSearch node in this JVM, bound to 127.0.0.1 only. Configuration by system
 * properties:
 *
 * <pre>
 *   -Dsou.node=node-1 -Dsou.home=/tmp/sou-os/node-1 -Dsou.http=9200 -Dsou.transport=9300
 *   -Dsou.seeds=127.0.0.1:9300,127.0.0.1:9301 -Dsou.initial=node-1,node-2 -Dsou.cluster=sou-test
 * </pre>
 *
 * Stops cleanly on SIGTERM (kill PID): the shutdown hook closes the node.
 */
public final class OpenSearchNodeMain {

    private OpenSearchNodeMain() {}

    public static void main(String[] args) throws Exception {
        // Several nodes per JVM would trip Netty's "availableProcessors is already set".
        System.setProperty("opensearch.set.netty.runtime.available.processors", "false");

        String name = System.getProperty("sou.node", "node-1");
        Path home = Path.of(System.getProperty("sou.home", "/tmp/sou-os/" + name));
        Files.createDirectories(home.resolve("config"));
        Files.createDirectories(home.resolve("plugins"));

        Settings settings = Settings.builder()
            .put("cluster.name", System.getProperty("sou.cluster", "sou-test"))
            .put("node.name", name)
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("network.host", "127.0.0.1")               // bind and publish on loopback only
            .put("http.port", System.getProperty("sou.http", "9200"))
            .put("transport.port", System.getProperty("sou.transport", "9300"))
            .putList("discovery.seed_hosts", csv(System.getProperty("sou.seeds", "127.0.0.1:9300")))
            .putList("cluster.initial_cluster_manager_nodes", csv(System.getProperty("sou.initial", name)))
            .put("cluster.routing.allocation.disk.threshold_enabled", false) // CI disks may be full-ish
            // A pasted passage (LeCaRD's cases) is several thousand term and phrase clauses, one
            // per word and field; 1024 (the default) refuses it.
            .put("indices.query.bool.max_clause_count", 65536)
            .build();

        configureLogging(settings);

        List<Class<? extends Plugin>> plugins = new ArrayList<>();
        // Class names differ between releases; take whichever this version ships.
        plugins.add(plugin("org.opensearch.transport.Netty4ModulePlugin", "org.opensearch.transport.Netty4Plugin"));
        plugins.add(plugin("org.opensearch.analysis.common.CommonAnalysisModulePlugin",
            "org.opensearch.analysis.common.CommonAnalysisPlugin"));
        // _delete_by_query and _update_by_query.
        plugins.add(plugin("org.opensearch.index.reindex.ReindexModulePlugin", "org.opensearch.index.reindex.ReindexPlugin"));
        // Painless, for the scripted similarity of the Chinese evidence field.
        plugins.add(plugin("org.opensearch.painless.PainlessModulePlugin", "org.opensearch.painless.PainlessPlugin"));
        // Optional analysis plugins, if their jars were put on the classpath (see README).
        for (String optional : csv(System.getProperty("sou.extraPlugins", ""))) {
            plugins.add(plugin(optional));
        }

        long t0 = System.nanoTime();
        Node node = new EmbeddedNode(settings, plugins);
        node.start();
        System.out.printf("sou: node %s started in %d ms (http 127.0.0.1:%s)%n", name,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), System.getProperty("sou.http", "9200"));

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "sou-shutdown"));
        // The node's own threads are daemon threads: keep the JVM alive until SIGTERM.
        stopped.await();
    }

    /**
     * Node's constructor that takes plugin classes is protected; a subclass is the supported way to
     * embed a node with modules from the classpath (what the test framework's MockNode does, without
     * the test framework, whose presence makes OpenSearch demand a randomized-testing context).
     */
    private static final class EmbeddedNode extends Node {
        EmbeddedNode(Settings settings, List<Class<? extends Plugin>> plugins) {
            super(InternalSettingsPreparer.prepareEnvironment(settings, Collections.emptyMap(), null,
                () -> settings.get("node.name")), plugins, true);
        }
    }

    private static List<String> csv(String s) {
        List<String> out = new ArrayList<>();
        for (String part : s.split(",")) {
            if (!part.isBlank()) {
                out.add(part.trim());
            }
        }
        return out;
    }

    private static Class<? extends Plugin> plugin(String... names) {
        for (String n : names) {
            try {
                return Class.forName(n).asSubclass(Plugin.class);
            } catch (ClassNotFoundException e) {
                // try the next name
            }
        }
        throw new IllegalStateException("none of these plugin classes is on the classpath: " + Arrays.toString(names));
    }

    /**
     * Logging to the console (the node's stdout.log) at INFO, through OpenSearch's own
     * configurator reading config/log4j2.properties, written here: without it log4j prints
     * nothing but errors, and a cluster problem leaves no trace.
     */
    private static void configureLogging(Settings settings) throws Exception {
        Path config = Path.of(settings.get("path.home")).resolve("config");
        Files.writeString(config.resolve("log4j2.properties"), String.join("\n",
            "status = error",
            "appender.console.type = Console",
            "appender.console.name = console",
            "appender.console.layout.type = PatternLayout",
            "appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n",
            "rootLogger.level = info",
            "rootLogger.appenderRef.console.ref = console",
            ""));
        LogConfigurator.configure(InternalSettingsPreparer.prepareEnvironment(settings, Collections.emptyMap(), config,
            () -> settings.get("node.name")));
    }
}
