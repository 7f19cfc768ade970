export { SharedQueue, type NatsLink, type SharedQueueOptions } from './shared-queue';
export { GroupPacer, withGroupPacer, type GroupLimits } from './group-pacer';
export { SharedDeadLetters } from './dead-letters';
export * from './names';
