/** The in-memory adapters against the port contracts the AWS adapters are held to. */
import {
  MemoryOrderStore,
  MemoryPublisher,
  MemoryTimers,
  MemoryWorkQueue,
} from '../../lambdas/adapters/memory/index.js';
import { orderStoreContract, publisherContract, timersContract, workQueueContract } from '../support/contracts.js';

orderStoreContract('memory', async () => new MemoryOrderStore());

workQueueContract('memory', async () => {
  const queue = new MemoryWorkQueue();
  return {
    queue,
    drain: async () => queue.messages.splice(0).map((message) => ({ message, groupId: message.groupId })),
  };
});

timersContract('memory', async () => {
  const timers = new MemoryTimers();
  return { timers, exists: async (name) => timers.timers.has(name) };
});

publisherContract('memory', async () => {
  const publisher = new MemoryPublisher();
  return { publisher, delivered: async () => publisher.events.splice(0) };
});
