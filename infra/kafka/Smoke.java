// End-to-end check of the test broker (`infra/kafka/service.sh smoke`): creates a topic, writes
// with a transactional producer (one committed, one aborted, one committed transaction), then
// reads it back with a read_committed consumer in a consumer group and commits offsets. That
// exercises the controller, the transaction coordinator and the group coordinator, all of which
// need the RF-1 settings for internal topics. Run with Java's single-file source launcher on the
// broker's classpath (kafka-clients is part of it). Exits non-zero on any failure.
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class Smoke {
  public static void main(String[] args) throws Exception {
    String brokers = args.length > 0 ? args[0] : "127.0.0.1:19092";
    String topic = "nexuslog-smoke-" + UUID.randomUUID();

    try (Admin admin = Admin.create(Map.of("bootstrap.servers", brokers))) {
      admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
    }

    Properties pp = new Properties();
    pp.put("bootstrap.servers", brokers);
    pp.put("transactional.id", "nexuslog-smoke-tx-" + UUID.randomUUID());
    pp.put("key.serializer", StringSerializer.class.getName());
    pp.put("value.serializer", StringSerializer.class.getName());
    try (KafkaProducer<String, String> p = new KafkaProducer<>(pp)) {
      p.initTransactions();
      p.beginTransaction();
      for (int i = 0; i < 5; i++) p.send(new ProducerRecord<>(topic, "k" + i, "committed-" + i));
      p.commitTransaction();
      p.beginTransaction();
      for (int i = 0; i < 3; i++) p.send(new ProducerRecord<>(topic, "k" + i, "aborted-" + i));
      p.flush();
      p.abortTransaction();
      p.beginTransaction();
      for (int i = 5; i < 7; i++) p.send(new ProducerRecord<>(topic, "k" + i, "committed-" + i));
      p.commitTransaction();
    }

    Properties cp = new Properties();
    cp.put("bootstrap.servers", brokers);
    cp.put("group.id", "nexuslog-smoke-" + UUID.randomUUID());
    cp.put("isolation.level", "read_committed");
    cp.put("auto.offset.reset", "earliest");
    cp.put("enable.auto.commit", "false");
    cp.put("key.deserializer", StringDeserializer.class.getName());
    cp.put("value.deserializer", StringDeserializer.class.getName());
    List<String> seen = new ArrayList<>();
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cp)) {
      c.subscribe(List.of(topic));
      long deadline = System.currentTimeMillis() + 30_000;
      while (seen.size() < 7 && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) seen.add(r.value());
      }
      c.commitSync();
    }

    boolean ok = seen.size() == 7 && seen.stream().allMatch(v -> v.startsWith("committed-"));
    System.out.println("kafka smoke: topic " + topic + ", read_committed saw " + seen.size()
        + " records " + seen);
    if (!ok) {
      System.out.println("kafka smoke: FAILED (expected exactly the 7 committed records)");
      System.exit(1);
    }
    System.out.println("kafka smoke: ok (transactions commit/abort, consumer group, offsets)");
  }
}
