import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * An operator's platform as the e2e tests play it: Apache Kafka's own Java producer.
 *
 * <p>Usage: java -cp 'kafka/lib/*' KafkaFeeds.java BOOTSTRAP TOPIC plain|tx CODEC [CLIENT_PROPS]
 *
 * <p>plain: each stdin line "key TAB value" is sent and acknowledged (acks=all) before the
 * next. tx: each line "commit|abort TAB key TAB value" is sent in a transaction of its own,
 * then committed or aborted. CLIENT_PROPS: a properties file of security settings. On a
 * failure it prints "FAILED ExceptionClass: message" and exits with 2.
 */
public class KafkaFeeds {
  public static void main(String[] args) throws Exception {
    Properties p = new Properties();
    if (args.length > 4) {
      try (FileInputStream in = new FileInputStream(args[4])) {
        p.load(in);
      }
    }
    p.put("bootstrap.servers", args[0]);
    p.put("compression.type", args[3]);
    p.put("acks", "all");
    p.put("max.block.ms", "15000");
    p.put("delivery.timeout.ms", "20000");
    p.put("request.timeout.ms", "10000");
    p.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    p.put("value.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    boolean tx = args[2].equals("tx");
    if (tx) p.put("transactional.id", "lgsp-e2e-" + args[1]);
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      if (tx) producer.initTransactions();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null; ) {
        String[] f = line.split("\t", tx ? 3 : 2);
        if (!tx) {
          producer.send(new ProducerRecord<>(args[1], f[0], f[1])).get();
          continue;
        }
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(args[1], f[1], f[2])).get();
        if (f[0].equals("commit")) producer.commitTransaction();
        else producer.abortTransaction();
      }
    } catch (Exception e) {
      Throwable t = e.getCause() != null ? e.getCause() : e;
      System.out.println("FAILED " + t.getClass().getSimpleName() + ": " + t.getMessage());
      System.exit(2);
    }
    System.out.println("SENT");
  }
}
