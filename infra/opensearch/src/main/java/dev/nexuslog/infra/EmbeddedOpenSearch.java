package dev.nexuslog.infra;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.index.mapper.MapperExtrasPlugin;
import org.opensearch.index.reindex.ReindexPlugin;
import org.opensearch.ingest.common.IngestCommonPlugin;
import org.opensearch.join.ParentJoinPlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.script.mustache.MustachePlugin;
import org.opensearch.search.aggregations.matrix.MatrixAggregationPlugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * Runs one OpenSearch 2.19 node in this JVM, for NexusLog's local services and CI.
 *
 * <p>Why not bin/opensearch: it refuses to run as root, and CI runs as root. Constructing a
 * {@link Node} directly skips the Bootstrap (root check, security manager, JNA, bootstrap
 * checks). The modules a distribution loads from modules/ are passed here as plugin classes
 * from their Maven Central jars instead.
 *
 * <p>Usage: {@code java -cp CP dev.nexuslog.infra.EmbeddedOpenSearch key=value...}; each
 * argument is a node setting (path.home is required and must hold config/log4j2.properties).
 */
public final class EmbeddedOpenSearch {

    /** The distribution modules NexusLog relies on (class names as in the 2.19 jars). */
    static final List<Class<? extends Plugin>> MODULES = List.of(
            Netty4Plugin.class,            // HTTP + transport (transport-netty4-client)
            CommonAnalysisPlugin.class,    // analyzers, tokenizers, token filters
            MapperExtrasPlugin.class,      // scaled_float, token_count, search_as_you_type, ...
            PainlessPlugin.class,          // painless scripts
            MustachePlugin.class,          // search templates
            ReindexPlugin.class,           // _reindex, _update_by_query, _delete_by_query
            ParentJoinPlugin.class,        // join field
            MatrixAggregationPlugin.class, // matrix_stats aggregation
            IngestCommonPlugin.class);     // ingest processors

    /** Node's plugin-class constructor is protected: this subclass exposes it. */
    static final class EmbeddedNode extends Node {
        EmbeddedNode(Environment env, Collection<Class<? extends Plugin>> plugins) {
            // true: forbid private index settings, as a real node does
            super(env, plugins, true);
        }
    }

    public static void main(String[] args) throws Exception {
        Settings.Builder builder = Settings.builder();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq <= 0) {
                System.err.println("expected key=value node settings, got: " + arg);
                System.exit(2);
            }
            builder.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        Settings settings = builder.build();
        String nodeName = settings.get("node.name", "nexuslog-1");
        Environment env = InternalSettingsPreparer.prepareEnvironment(
                settings, Map.of(), null, () -> nodeName);

        // Same logging set-up as the real launcher: log4j2.properties from path.home/config.
        LogConfigurator.registerErrorListener();
        LogConfigurator.setNodeName(nodeName);
        LogConfigurator.configure(env);

        Node node = new EmbeddedNode(env, MODULES);

        // Keep a non-daemon thread alive until shutdown, like Bootstrap's keepAliveThread:
        // most of OpenSearch's own threads are daemons.
        CountDownLatch stopped = new CountDownLatch(1);
        Thread keepAlive = new Thread(() -> {
            try {
                stopped.await();
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "opensearch[keepAlive]");
        keepAlive.setDaemon(false);
        keepAlive.start();

        // SIGTERM (service.sh stop) closes the node cleanly: flushes shards, frees the ports.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                if (!node.awaitClose(30, TimeUnit.SECONDS)) {
                    System.err.println("node did not close within 30s");
                }
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "opensearch[shutdown]"));

        try {
            node.start();
        } catch (Throwable t) {
            t.printStackTrace();
            // Exit non-zero so wait_healthy sees the death at once rather than timing out.
            Runtime.getRuntime().halt(1);
        }
    }

    private EmbeddedOpenSearch() {}
}
