import { MemoryStorage } from './memory-storage.ts'
import { runStorageContract } from './storage-contract.ts'

runStorageContract('MemoryStorage', () => new MemoryStorage())
