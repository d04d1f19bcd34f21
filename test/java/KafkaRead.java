import java.io.FileInputStream;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * A data warehouse as the e2e tests play it: Apache Kafka's own Java consumer (CRCs checked,
 * read_committed), reading a topic from the beginning until nothing new arrives for 3 s, and
 * printing each record as "key TAB value".
 *
 * <p>Usage: java -cp 'kafka/lib/*' KafkaRead.java BOOTSTRAP TOPIC GROUP [CLIENT_PROPS]
 *
 * <p>On a failure it prints "FAILED ExceptionClass: message" and exits with 2.
 */
public class KafkaRead {
  public static void main(String[] args) throws Exception {
    Properties p = new Properties();
    if (args.length > 3) {
      try (FileInputStream in = new FileInputStream(args[3])) {
        p.load(in);
      }
    }
    p.put("bootstrap.servers", args[0]);
    p.put("group.id", args[2]);
    p.put("auto.offset.reset", "earliest");
    p.put("enable.auto.commit", "false");
    p.put("check.crcs", "true");
    p.put("isolation.level", "read_committed");
    p.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    p.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
      consumer.subscribe(List.of(args[1]));
      long idleSince = System.currentTimeMillis();
      boolean assigned = false;
      while (System.currentTimeMillis() - idleSince < 3_000 || !assigned) {
        var records = consumer.poll(Duration.ofMillis(500));
        if (!consumer.assignment().isEmpty() && !assigned) {
          assigned = true;
          idleSince = System.currentTimeMillis();
        }
        for (ConsumerRecord<String, String> r : records) {
          System.out.println(r.key() + "\t" + r.value());
          idleSince = System.currentTimeMillis();
        }
        if (!assigned && System.currentTimeMillis() - idleSince > 30_000)
          throw new IllegalStateException("no partitions assigned within 30 s");
      }
    } catch (Exception e) {
      System.out.println("FAILED " + e.getClass().getSimpleName() + ": " + e.getMessage());
      System.exit(2);
    }
  }
}
